// Fake but realistic people: names, emails on reserved domains (example.com/.net/.org), phone
// numbers in the 555-01xx range set aside for fiction, plausible addresses. When a privacy
// canary is given it is embedded in every personal field, so a test can grep the backend's
// database, logs and artifacts for it and prove none of it was stored.
import type { Rng } from './random.ts';
import type { SimAddress, SimBuyer } from './types.ts';

export const FIRST_NAMES = [
  'Ann', 'Ben', 'Chloe', 'Daniel', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Liam',
  'Maya', 'Noah', 'Olivia', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Umar', 'Vera', 'Wes', 'Ximena',
  'Yusuf', 'Zoe', 'Aiko', 'Bruno', 'Carmen', 'Dev', 'Emma', 'Felix', 'Gia', 'Hana', 'Ivan', 'Jade',
  'Kofi', 'Lena', 'Marco', 'Nadia', 'Oscar', 'Paula', 'Rahul', 'Sofia', 'Theo', 'Uma', 'Victor', 'Wanda',
];
export const LAST_NAMES = [
  'Smith', 'Garcia', 'Nguyen', 'Okafor', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', 'Haddad', 'Johansson',
  'Brown', 'Silva', 'Patel', 'Kim', "O'Brien", 'Dubois', 'Novak', 'Cohen', 'Lopez', 'Andersen', 'Ito',
  'Mensah', 'Fischer', 'Ward', 'Reyes', 'Clarke', 'Moreau', 'Sato', 'Byrne', 'Hughes', 'Khan', 'Walsh',
];
export const STREETS = ['Maple Ave', 'Harbor St', 'Elm St', 'Cedar Ln', 'Mill Rd', 'Park Pl', 'Orchard Way', 'Lake Dr', 'Main St', 'Willow Ct'];

interface Place {
  city: string;
  province: string;
  provinceCode: string;
  zipPrefix: string;
  country: string;
  countryCode: string;
  areaCodes: string[];
  weight: number;
}
// Mostly domestic (US) shoppers, with a tail of Canadian and European ones.
const PLACES: Place[] = [
  { city: 'Portland', province: 'Oregon', provinceCode: 'OR', zipPrefix: '972', country: 'United States', countryCode: 'US', areaCodes: ['503'], weight: 10 },
  { city: 'Austin', province: 'Texas', provinceCode: 'TX', zipPrefix: '787', country: 'United States', countryCode: 'US', areaCodes: ['512'], weight: 10 },
  { city: 'Brooklyn', province: 'New York', provinceCode: 'NY', zipPrefix: '112', country: 'United States', countryCode: 'US', areaCodes: ['718', '347'], weight: 12 },
  { city: 'Chicago', province: 'Illinois', provinceCode: 'IL', zipPrefix: '606', country: 'United States', countryCode: 'US', areaCodes: ['312', '773'], weight: 10 },
  { city: 'Denver', province: 'Colorado', provinceCode: 'CO', zipPrefix: '802', country: 'United States', countryCode: 'US', areaCodes: ['303'], weight: 7 },
  { city: 'Atlanta', province: 'Georgia', provinceCode: 'GA', zipPrefix: '303', country: 'United States', countryCode: 'US', areaCodes: ['404'], weight: 7 },
  { city: 'Seattle', province: 'Washington', provinceCode: 'WA', zipPrefix: '981', country: 'United States', countryCode: 'US', areaCodes: ['206'], weight: 8 },
  { city: 'Oakland', province: 'California', provinceCode: 'CA', zipPrefix: '946', country: 'United States', countryCode: 'US', areaCodes: ['510'], weight: 9 },
  { city: 'Asheville', province: 'North Carolina', provinceCode: 'NC', zipPrefix: '288', country: 'United States', countryCode: 'US', areaCodes: ['828'], weight: 4 },
  { city: 'Madison', province: 'Wisconsin', provinceCode: 'WI', zipPrefix: '537', country: 'United States', countryCode: 'US', areaCodes: ['608'], weight: 4 },
  { city: 'Toronto', province: 'Ontario', provinceCode: 'ON', zipPrefix: 'M5V', country: 'Canada', countryCode: 'CA', areaCodes: ['416'], weight: 5 },
  { city: 'Vancouver', province: 'British Columbia', provinceCode: 'BC', zipPrefix: 'V6B', country: 'Canada', countryCode: 'CA', areaCodes: ['604'], weight: 3 },
  { city: 'Manchester', province: 'England', provinceCode: 'ENG', zipPrefix: 'M1', country: 'United Kingdom', countryCode: 'GB', areaCodes: ['161'], weight: 3 },
  { city: 'Berlin', province: 'Berlin', provinceCode: 'BE', zipPrefix: '101', country: 'Germany', countryCode: 'DE', areaCodes: ['30'], weight: 2 },
];
const PLACE_WEIGHTS = PLACES.map((p) => p.weight);

const COUNTRY_DIAL: Record<string, string> = { US: '1', CA: '1', GB: '44', DE: '49' };

export interface FakePerson extends SimBuyer {
  email: string;
}

export interface PeopleFactory {
  /** A new person with an email no earlier person of this factory used. */
  person(rng: Rng, emailDomain?: string): FakePerson;
}

/** `taken`: emails already in use (a store's customers and guests), never handed out again. */
export function createPeopleFactory(canary: string | undefined, taken: Iterable<string> = []): PeopleFactory {
  const usedEmails = new Set<string>(taken);
  // "Ann" → "Ann-<canary>": recognisable as a name, impossible to miss in a grep.
  const mark = (value: string) => (canary ? `${value}-${canary}` : value);
  const emailLocal = (value: string) => value.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '');

  return {
    person(rng, emailDomain = 'example.com') {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const place = rng.weightedPick(PLACES, PLACE_WEIGHTS);
      const base = [emailLocal(first), emailLocal(last), ...(canary ? [canary] : [])].join('.');
      let email = `${base}@${emailDomain}`;
      for (let n = 2; usedEmails.has(email); n++) email = `${base}${n}@${emailDomain}`;
      usedEmails.add(email);
      const dial = COUNTRY_DIAL[place.countryCode] ?? '1';
      const phone = `+${dial}${rng.pick(place.areaCodes)}55501${String(rng.int(0, 99)).padStart(2, '0')}`;
      const address: SimAddress = {
        address1: mark(`${rng.int(1, 2999)} ${rng.pick(STREETS)}`),
        city: mark(place.city),
        zip: mark(place.countryCode === 'US' ? `${place.zipPrefix}${String(rng.int(1, 99)).padStart(2, '0')}` : `${place.zipPrefix} ${rng.int(1, 9)}AB`),
        country: place.country,
        countryCode: place.countryCode,
        province: place.province,
        provinceCode: place.provinceCode,
      };
      // Fields Shopify sends as null for most buyers: filled only in a canary store (no extra
      // random draws, so a store without a canary stays byte-identical).
      if (canary) {
        address.address2 = mark('Apt 4');
        address.company = mark(`${last} Household`);
      }
      return {
        firstName: mark(first),
        lastName: mark(last),
        email,
        phone: canary ? `${phone};ext=${canary}` : phone,
        address,
      };
    },
  };
}

/** Embeds the canary in a free-text note. */
export function markNote(note: string, canary: string | undefined): string {
  return canary ? `${note} (${canary})` : note;
}
