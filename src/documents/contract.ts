import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
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

/**
 * A WOFF 1.0 font as the TrueType file it wraps (each table inflated once). fontkit reads
 * WOFF too, but inflates a table again on every access, which made one contract take
 * seconds; as TrueType it takes milliseconds.
 */
export function woffToTtf(woff: Buffer): Buffer {
  if (woff.readUInt32BE(0) !== 0x774f4646) throw new Error('not a WOFF font');
  const flavor = woff.readUInt32BE(4);
  const count = woff.readUInt16BE(12);
  const tables = [];
  for (let i = 0; i < count; i += 1) {
    const at = 44 + i * 20;
    const offset = woff.readUInt32BE(at + 4);
    const compLength = woff.readUInt32BE(at + 8);
    const origLength = woff.readUInt32BE(at + 12);
    const raw = woff.subarray(offset, offset + compLength);
    tables.push({
      tag: woff.readUInt32BE(at),
      checksum: woff.readUInt32BE(at + 16),
      data: compLength < origLength ? inflateSync(raw) : Buffer.from(raw),
    });
  }
  const log2 = Math.floor(Math.log2(count));
  const header = Buffer.alloc(12 + 16 * count);
  header.writeUInt32BE(flavor, 0);
  header.writeUInt16BE(count, 4);
  header.writeUInt16BE(2 ** log2 * 16, 6);
  header.writeUInt16BE(log2, 8);
  header.writeUInt16BE(count * 16 - 2 ** log2 * 16, 10);
  const bodies: Buffer[] = [];
  let offset = header.length;
  tables.forEach((t, i) => {
    header.writeUInt32BE(t.tag, 12 + i * 16);
    header.writeUInt32BE(t.checksum, 16 + i * 16);
    header.writeUInt32BE(offset, 20 + i * 16);
    header.writeUInt32BE(t.data.length, 24 + i * 16);
    const padded = Buffer.alloc((t.data.length + 3) & ~3);
    t.data.copy(padded);
    bodies.push(padded);
    offset += padded.length;
  });
  return Buffer.concat([header, ...bodies]);
}

const require = createRequire(import.meta.url);
let fonts: { regular: Buffer; bold: Buffer } | undefined;
function loadFonts() {
  const font = (weight: number) =>
    woffToTtf(readFileSync(require.resolve(`@fontsource/dejavu-sans/files/dejavu-sans-latin-${weight}-normal.woff`)));
  fonts ??= { regular: font(400), bold: font(700) };
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
