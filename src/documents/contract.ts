import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import { SELLER_DECLARATIONS } from '../domain/sale.js';

/**
 * The bill of sale (kaupsamningur) as a PDF, rendered from the data it is given. The font is
 * DejaVu Sans from the `@fontsource/dejavu-sans` package (its Latin subset has every
 * Icelandic letter: þ ð æ ö á é í ó ú ý), embedded in the file: nothing is fetched at run
 * time, and the PDF's text is real text (a reader or `pdftotext` gets the letters back).
 */

export type ContractInput = {
  seller: { name: string; kennitala: string; address: string };
  buyer: { company: string; kennitala: string | null; address: string | null };
  car: {
    plate: string;
    vin: string | null;
    make: string;
    model: string;
    first_registration: string;
    mileage: number;
  };
  price: number;
  /** The date of the contract (ISO); shown in Iceland's time. */
  date: string;
  condition: { grade: number | null; inspector: string | null };
  sale_id: string;
};

const require = createRequire(import.meta.url);
let fonts: { regular: Buffer; bold: Buffer } | undefined;
function loadFonts() {
  fonts ??= {
    regular: readFileSync(require.resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff')),
    bold: readFileSync(require.resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff')),
  };
  return fonts;
}

/** `1.512.000 kr.`: Icelandic thousands separators, written out here so no ICU data can change it. */
export function formatIskAmount(amount: number): string {
  return `${String(Math.trunc(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, '.')} kr.`;
}

/** `2. desember 2026`, the date in Iceland. */
function formatDate(iso: string): string {
  const months = ['janúar', 'febrúar', 'mars', 'apríl', 'maí', 'júní', 'júlí', 'ágúst', 'september', 'október', 'nóvember', 'desember'];
  const d = new Date(iso); // Iceland keeps UTC all year
  return `${d.getUTCDate()}. ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

export function renderContract(input: ContractInput): Promise<Buffer> {
  const { regular, bold } = loadFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: { Title: `Kaupsamningur ${input.car.plate}`, Author: 'Kaggi', Subject: 'Kaupsamningur um notaða bifreið' },
  });
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const heading = (text: string) => doc.moveDown(0.8).font('bold').fontSize(12).text(text).moveDown(0.2).font('regular').fontSize(10);
  const line = (label: string, value: string) => doc.font('bold').text(`${label}: `, { continued: true }).font('regular').text(value);

  doc.font('bold').fontSize(18).text('Kaupsamningur um bifreið', { align: 'center' });
  doc
    .font('regular')
    .fontSize(10)
    .text(`Dagsetning: ${formatDate(input.date)}`, { align: 'center' });

  heading('Seljandi');
  line('Nafn', input.seller.name);
  line('Kennitala', input.seller.kennitala);
  line('Heimilisfang', input.seller.address);

  heading('Kaupandi');
  line('Fyrirtæki', input.buyer.company);
  line('Kennitala', input.buyer.kennitala ?? '–');
  line('Heimilisfang', input.buyer.address ?? '–');

  heading('Bifreiðin');
  line('Skráningarnúmer', input.car.plate);
  line('Verksmiðjunúmer (VIN)', input.car.vin ?? '–');
  line('Tegund', input.car.make);
  line('Gerð', input.car.model);
  line('Fyrsta skráning', input.car.first_registration);
  line('Akstur', `${formatIskAmount(input.car.mileage).replace(' kr.', '')} km`);
  line(
    'Ástandseinkunn',
    input.condition.grade === null
      ? 'Engin ástandsskoðun'
      : `${input.condition.grade} af 5${input.condition.inspector ? ` (${input.condition.inspector})` : ''}`,
  );

  heading('Kaupverð');
  line('Umsamið kaupverð', formatIskAmount(input.price));
  doc.text('Kaupverðið greiðist kaupanda til Kaggi, sem greiðir það seljanda þegar greiðsla hefur borist.');

  heading('Yfirlýsingar seljanda');
  for (const d of SELLER_DECLARATIONS) doc.text(`• ${d}`);

  heading('Milliganga');
  doc.text(
    'Kaggi hefur milligöngu um söluna: annast samninginn, greiðsluna og tilkynningu eigendaskipta til Samgöngustofu, ' +
      'og tekur við kvörtunum vegna viðskiptanna.',
  );
  doc.fontSize(8).text(`Tilvísun: ${input.sale_id}`);

  doc.moveDown(3).fontSize(10);
  const y = doc.y;
  const width = (doc.page.width - 56 * 2 - 40) / 2;
  doc
    .moveTo(56, y)
    .lineTo(56 + width, y)
    .stroke();
  doc
    .moveTo(56 + width + 40, y)
    .lineTo(56 + 2 * width + 40, y)
    .stroke();
  doc.text('Undirskrift seljanda', 56, y + 4, { width });
  doc.text('Undirskrift kaupanda', 56 + width + 40, y + 4, { width });

  doc.end();
  return done;
}
