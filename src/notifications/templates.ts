import { escapeHtml } from './html.js';
import type { EmailKind } from './kinds.js';

export const formatIsk = (amount: unknown) => (typeof amount === 'number' ? `${new Intl.NumberFormat('is-IS').format(amount)} kr.` : '–');

const formatTime = (iso: unknown) =>
  typeof iso === 'string'
    ? new Date(iso).toLocaleString('is-IS', { timeZone: 'Atlantic/Reykjavik', dateStyle: 'medium', timeStyle: 'short' })
    : '–';

/** Subject and HTML of an e-mail sent without a Brevo template (Icelandic, like the frontend). */
export function render(kind: EmailKind, p: Record<string, unknown>): { subject: string; html: string } {
  const car = `${p.car_make} ${p.car_model} (${p.car_plate})`;
  if (kind === 'outbid') {
    return {
      subject: `Yfirboðið: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Annar söluaðili hefur boðið betur í <strong>${escapeHtml(car)}</strong>, árgerð ${escapeHtml(p.year)}.</p>` +
        `<p>Hæsta boð er nú ${escapeHtml(formatIsk(p.highest_bid))}; næsta leyfilega boð er ${escapeHtml(formatIsk(p.min_next_bid))}.</p>` +
        `<p>Uppboðinu lýkur ${escapeHtml(formatTime(p.auction_ends_at))}.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'dealer_approved') {
    return {
      subject: 'Aðgangur samþykktur: Kaggi',
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Aðgangur ${escapeHtml(p.dealer_name)} að Kaggi hefur verið samþykktur. Nú getur þú boðið í bíla.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'dealer_suspended') {
    return {
      subject: 'Aðgangi lokað tímabundið: Kaggi',
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Aðgangi ${escapeHtml(p.dealer_name)} að Kaggi hefur verið lokað tímabundið; þú getur ekki boðið í bíla á meðan.` +
        (p.reason ? ` Ástæða: ${escapeHtml(p.reason)}` : '') +
        `</p><p>Hafðu samband við okkur ef þú hefur spurningar.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'auction_won') {
    return {
      subject: `Þú keyptir: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Seljandinn hefur tekið boði þínu, ${escapeHtml(formatIsk(p.sold_for))}, í <strong>${escapeHtml(car)}</strong>, árgerð ${escapeHtml(p.year)}.</p>` +
        `<p>Við höfum samband um afhendingu.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'sale_confirmed') {
    return {
      subject: `Bíllinn er seldur: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
        `<p><strong>${escapeHtml(car)}</strong> er seldur fyrir ${escapeHtml(formatIsk(p.sold_for))}.</p>` +
        `<p>Við höfum samband um afhendingu og greiðslu.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'auction_ended_unsold') {
    const why =
      {
        declined: 'Seljandinn hafnaði boðunum',
        withdrawn: 'Seljandinn dró bílinn til baka',
        expired: 'Seljandinn tók ekki afstöðu í tæka tíð',
      }[String(p.status) as 'declined' | 'withdrawn' | 'expired'] ?? 'Uppboðinu lauk án sölu';
    return {
      subject: `Uppboði lokið án sölu: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>${escapeHtml(why)}: <strong>${escapeHtml(car)}</strong> verður ekki seldur í þessu uppboði.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'decision_expired') {
    return {
      subject: `Frestur til að svara liðinn: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
        `<p>Frestur til að taka hæsta boði í <strong>${escapeHtml(car)}</strong> er liðinn og boðin falla niður.</p>` +
        `<p>Hafðu samband ef þú vilt bjóða bílinn upp aftur.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  const sale = renderSale(kind, p, car);
  if (sale) return sale;
  const alert = renderAlert(kind, p, car);
  if (alert) return alert;
  const outcome =
    typeof p.highest_bid === 'number'
      ? `Hæsta boð var ${escapeHtml(formatIsk(p.highest_bid))} (${escapeHtml(p.bid_count)} boð)` +
        (p.reserve_met ? '.' : ', undir lágmarksverðinu þínu.')
      : 'Ekkert boð barst.';
  const decide =
    typeof p.highest_bid === 'number' && typeof p.decision_due_at === 'string'
      ? `<p>Þú getur tekið hæsta boði eða hafnað því á „Mín síða“ (bílnúmer og netfang) til ${escapeHtml(formatTime(p.decision_due_at))}.</p>`
      : '<p>Við höfum samband við þig um framhaldið.</p>';
  return {
    subject: `Uppboði lokið: ${car}`,
    html:
      `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
      `<p>Uppboðinu á <strong>${escapeHtml(car)}</strong> er lokið. ${outcome}</p>` +
      decide +
      `<p>Kveðja,<br>Kaggi</p>`,
  };
}

/** The seller's sign-in code, sent straight away (not through the outbox: it is worth nothing later). */
export function sellerCodeEmail(p: { car_plate: string; code: string; minutes: number }): { subject: string; html: string } {
  return {
    subject: `Kaggi innskráningarkóði: ${p.code}`,
    html:
      `<p>Innskráningarkóðinn þinn fyrir ${escapeHtml(p.car_plate)} á Mín síða er <strong>${escapeHtml(p.code)}</strong>.</p>` +
      `<p>Hann gildir í ${p.minutes} mínútur. Ef þú baðst ekki um hann máttu hunsa þennan póst.</p>`,
  };
}

/** The welcome e-mail without a Brevo template. */
export function welcomeEmail(p: { first_name: string }): { subject: string; html: string } {
  return {
    subject: 'Velkomin(n) á Kaggi',
    html: `<p>Hæ ${escapeHtml(p.first_name)},</p><p>Takk fyrir að skrá bílinn þinn á Kaggi. Við látum þig vita þegar tilboð berast.</p>`,
  };
}

/** The sale's steps in words (Icelandic, as the e-mails are). */
const STEP_WORDS: Record<string, string> = {
  contract_signed: 'Kaupsamningur undirritaður',
  buyer_paid: 'Kaupandi hefur greitt',
  picked_up: 'Bíllinn hefur verið sóttur',
  ownership_transferred: 'Eigendaskipti skráð',
  seller_paid: 'Greiðsla send seljanda',
  completed: 'Sölunni er lokið',
};

/** The sale's e-mails (src/usecases/sale.ts queues them): never the seller's kennitala, address or bank account. */
function renderSale(kind: EmailKind, p: Record<string, unknown>, car: string): { subject: string; html: string } | null {
  const hello = `<p>Sæl/l ${escapeHtml(p.to_name ?? '')},</p>`;
  const bye = '<p>Kveðja,<br>Kaggi</p>';
  if (kind === 'sale_step') {
    const words = STEP_WORDS[String(p.step)] ?? String(p.step);
    return {
      subject: `${words}: ${car}`,
      html:
        hello +
        `<p>Sala á <strong>${escapeHtml(car)}</strong>: ${escapeHtml(words)}.</p>` +
        (p.completed ? '<p>Öllum skrefum sölunnar er lokið. Takk fyrir viðskiptin.</p>' : '') +
        bye,
    };
  }
  if (kind === 'sale_overdue') {
    const what = p.deadline === 'pickup' ? 'sækja bílinn' : 'greiða fyrir bílinn';
    return {
      subject: `Frestur liðinn: ${car}`,
      html:
        hello +
        `<p>Frestur kaupanda til að ${what} <strong>${escapeHtml(car)}</strong> rann út ${escapeHtml(formatTime(p.due_at))}.</p>` +
        bye,
    };
  }
  if (kind === 'sale_cancelled') {
    return {
      subject: `Sölu rift: ${car}`,
      html:
        hello +
        `<p>Kaupandi hefur fallið frá kaupum á <strong>${escapeHtml(car)}</strong> og salan hefur verið felld niður.</p>` +
        (p.to_seller
          ? `<p>Þú getur tekið næsthæsta boði eða hafnað á „Mín síða“ til ${escapeHtml(formatTime(p.decision_due_at))}.</p>`
          : '') +
        bye,
    };
  }
  if (kind === 'pickup_proposed') {
    return {
      subject: `Tillaga að afhendingartíma: ${car}`,
      html:
        hello +
        `<p>Kaupandi <strong>${escapeHtml(car)}</strong> leggur til að sækja bílinn ${escapeHtml(formatTime(p.pickup_at))}.</p>` +
        '<p>Staðfestu tímann eða biddu um annan á „Mín síða“.</p>' +
        bye,
    };
  }
  if (kind === 'pickup_answered') {
    return {
      subject: `${p.confirmed ? 'Afhendingartími staðfestur' : 'Seljandi biður um annan tíma'}: ${car}`,
      html:
        hello +
        (p.confirmed
          ? `<p>Seljandi hefur staðfest að <strong>${escapeHtml(car)}</strong> verði sóttur ${escapeHtml(formatTime(p.pickup_at))}.</p>`
          : `<p>Seljandi <strong>${escapeHtml(car)}</strong> biður um annan tíma en ${escapeHtml(formatTime(p.pickup_at))}.</p>`) +
        bye,
    };
  }
  return null;
}

/** The dealer's sign-in e-mail without a Brevo template. */
export function dealerCodeEmail(p: { company_name: string; code: string; minutes: number }): { subject: string; html: string } {
  return {
    subject: `Kaggi innskráningarkóði: ${p.code}`,
    html:
      `<p>Innskráningarkóði ${escapeHtml(p.company_name)} á Kaggi er <strong>${escapeHtml(p.code)}</strong>.</p>` +
      `<p>Hann gildir í ${p.minutes} mínútur. Ef þú baðst ekki um hann máttu hunsa þennan póst.</p>`,
  };
}

/** A list a template was given as JSON text (params hold plain values only); anything else is an empty list. */
function listParam<T>(value: unknown): T[] {
  if (typeof value !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? (parsed as T[]) : [];
  } catch {
    return [];
  }
}

type DigestCar = {
  car_make: string;
  car_model: string;
  car_plate: string;
  year: number;
  mileage: number;
  auction_ends_at: string | null;
  searches: string[];
};

const carLine = (c: Record<string, unknown>) =>
  `${escapeHtml(`${c.car_make} ${c.car_model} (${c.car_plate})`)}, árgerð ${escapeHtml(c.year)}, ekinn ${escapeHtml(
    typeof c.mileage === 'number' ? new Intl.NumberFormat('is-IS').format(c.mileage) : c.mileage,
  )} km`;

/**
 * The saved searches' e-mails and the end-of-round reminder (src/auctions/alerts.ts queues
 * them, docs/alerts.md): the car as dealers see it in the list, never its seller.
 */
function renderAlert(kind: EmailKind, p: Record<string, unknown>, car: string): { subject: string; html: string } | null {
  const hello = `<p>Sæl/l ${escapeHtml(p.dealer_name ?? '')},</p>`;
  const bye = '<p>Kveðja,<br>Kaggi</p>';
  if (kind === 'search_alert') {
    const searches = listParam<string>(p.searches);
    return {
      subject: `Nýr bíll í uppboði: ${car}`,
      html:
        hello +
        `<p>Uppboð er hafið á bíl sem passar við ${searches.length === 1 ? 'vistuðu leitina þína' : 'vistuðu leitirnar þínar'}: ` +
        `${searches.map((name) => `<strong>${escapeHtml(name)}</strong>`).join(', ')}.</p>` +
        `<p>${carLine(p)}. Uppboðinu lýkur ${escapeHtml(formatTime(p.auction_ends_at))}.</p>` +
        bye,
    };
  }
  if (kind === 'search_digest') {
    const cars = listParam<DigestCar>(p.cars);
    return {
      subject: `Vistaðar leitir: ${cars.length} ${cars.length === 1 ? 'nýr bíll' : 'nýir bílar'} í uppboði`,
      html:
        hello +
        '<p>Þessir bílar í uppboði passa við vistaðar leitir þínar síðan síðast:</p><ul>' +
        cars
          .map(
            (c) =>
              `<li>${carLine(c)}; lýkur ${escapeHtml(formatTime(c.auction_ends_at))} ` +
              `(${(Array.isArray(c.searches) ? c.searches : []).map((name) => escapeHtml(name)).join(', ')})</li>`,
          )
          .join('') +
        '</ul>' +
        bye,
    };
  }
  if (kind === 'auction_reminder') {
    return {
      subject: `Uppboði lýkur brátt: ${car}`,
      html:
        hello +
        `<p>Uppboðinu á <strong>${escapeHtml(car)}</strong> lýkur ${escapeHtml(formatTime(p.auction_ends_at))}, ` +
        `eftir um ${escapeHtml(p.minutes)} mínútur.</p>` +
        bye,
    };
  }
  return null;
}
