// The simulated shop's assortment: a lifestyle store whose product types fall into "worlds"
// (coffee, tea, apparel, home, desk, care). Shoppers mostly stay inside one world and planted
// complements cross types (beans ↔ brewer), which gives the recommender real structure to learn.

export interface CategorySpec {
  productType: string;
  world: string;
  /** Share of the catalog. */
  share: number;
  /** Median price and log-sd of the per-category price distribution (USD). */
  priceMedian: number;
  priceSigma: number;
  optionName: string; // "Title" means a single "Default Title" variant
  /** Option values and their price multipliers; 1–3 are used per product. */
  options: { value: string; priceFactor: number }[];
  /** Bought again and again (the repurchase signal churn and recommendation models use). */
  consumable: boolean;
  /** Product type whose items are planted as complements of this type's items. */
  complementType: string | null;
  vendors: string[];
  adjectives: string[];
  nouns: string[];
  tags: string[];
}

const single = [{ value: 'Default Title', priceFactor: 1 }];
const sizes = [
  { value: 'S', priceFactor: 1 },
  { value: 'M', priceFactor: 1 },
  { value: 'L', priceFactor: 1 },
  { value: 'XL', priceFactor: 1.08 },
];
const colors = [
  { value: 'Black', priceFactor: 1 },
  { value: 'Sage', priceFactor: 1 },
  { value: 'Sand', priceFactor: 1 },
];

export const CATEGORIES: CategorySpec[] = [
  {
    productType: 'Coffee', world: 'coffee', share: 0.13, priceMedian: 16, priceSigma: 0.25, optionName: 'Weight',
    options: [{ value: '250g', priceFactor: 1 }, { value: '500g', priceFactor: 1.8 }, { value: '1kg', priceFactor: 3.2 }],
    consumable: true, complementType: 'Brewing Gear', vendors: ['Ridgeline Roasters', 'Copperpot Coffee'],
    adjectives: ['Ethiopia', 'Colombia', 'Sumatra', 'House', 'Morning', 'Midnight', 'Kenya', 'Guatemala', 'Decaf', 'Espresso', 'Harvest', 'Riverstone'],
    nouns: ['Blend', 'Single Origin', 'Roast', 'Beans', 'Reserve'], tags: ['coffee', 'whole-bean'],
  },
  {
    productType: 'Brewing Gear', world: 'coffee', share: 0.08, priceMedian: 36, priceSigma: 0.5, optionName: 'Title',
    options: single, consumable: false, complementType: 'Coffee', vendors: ['Brewcraft', 'Kettle & Co'],
    adjectives: ['Pour-Over', 'Glass', 'Ceramic', 'Steel', 'Hand', 'Cold Brew', 'Travel', 'Precision', 'Gooseneck'],
    nouns: ['Dripper', 'Grinder', 'Kettle', 'French Press', 'Scale', 'Filters', 'Carafe'], tags: ['brewing', 'gear'],
  },
  {
    productType: 'Mugs', world: 'coffee', share: 0.07, priceMedian: 18, priceSigma: 0.25, optionName: 'Color',
    options: colors, consumable: false, complementType: 'Coffee', vendors: ['Kiln Street'],
    adjectives: ['Stoneware', 'Speckled', 'Enamel', 'Tall', 'Everyday', 'Camp', 'Double-Wall'],
    nouns: ['Mug', 'Cup', 'Tumbler'], tags: ['mugs', 'ceramics'],
  },
  {
    productType: 'Tea', world: 'tea', share: 0.1, priceMedian: 12, priceSigma: 0.3, optionName: 'Weight',
    options: [{ value: '50g', priceFactor: 1 }, { value: '100g', priceFactor: 1.7 }],
    consumable: true, complementType: 'Teaware', vendors: ['Leaf & Lantern', 'Mistvale Teas'],
    adjectives: ['Sencha', 'Darjeeling', 'Earl Grey', 'Jasmine', 'Oolong', 'Rooibos', 'Chai', 'Mint', 'Assam', 'Hojicha'],
    nouns: ['Loose Leaf', 'Tea', 'Infusion', 'Blend'], tags: ['tea', 'loose-leaf'],
  },
  {
    productType: 'Teaware', world: 'tea', share: 0.06, priceMedian: 28, priceSigma: 0.4, optionName: 'Title',
    options: single, consumable: false, complementType: 'Tea', vendors: ['Leaf & Lantern', 'Kiln Street'],
    adjectives: ['Cast Iron', 'Glass', 'Porcelain', 'Bamboo', 'Clay'],
    nouns: ['Teapot', 'Infuser', 'Tea Cups', 'Whisk', 'Tea Tin'], tags: ['teaware'],
  },
  {
    productType: 'T-Shirts', world: 'apparel', share: 0.11, priceMedian: 28, priceSigma: 0.2, optionName: 'Size',
    options: sizes, consumable: false, complementType: 'Hats', vendors: ['Northbound Apparel', 'Tidewater Goods'],
    adjectives: ['Organic', 'Heavyweight', 'Pocket', 'Vintage', 'Striped', 'Logo', 'Garment-Dyed', 'Slub'],
    nouns: ['Tee', 'T-Shirt', 'Crew Tee', 'Long Sleeve'], tags: ['apparel', 'cotton'],
  },
  {
    productType: 'Hoodies', world: 'apparel', share: 0.06, priceMedian: 64, priceSigma: 0.2, optionName: 'Size',
    options: sizes, consumable: false, complementType: 'T-Shirts', vendors: ['Northbound Apparel'],
    adjectives: ['Fleece', 'Zip', 'Heavyweight', 'Trail', 'Everyday', 'Waffle'],
    nouns: ['Hoodie', 'Sweatshirt', 'Pullover'], tags: ['apparel', 'layers'],
  },
  {
    productType: 'Hats', world: 'apparel', share: 0.05, priceMedian: 24, priceSigma: 0.2, optionName: 'Color',
    options: colors, consumable: false, complementType: 'T-Shirts', vendors: ['Tidewater Goods'],
    adjectives: ['Wool', 'Canvas', 'Rib-Knit', 'Five-Panel', 'Bucket'],
    nouns: ['Beanie', 'Cap', 'Hat'], tags: ['apparel', 'accessories'],
  },
  {
    productType: 'Candles', world: 'home', share: 0.08, priceMedian: 26, priceSigma: 0.3, optionName: 'Title',
    options: single, consumable: true, complementType: 'Home Decor', vendors: ['Emberly', 'Quiet Hours'],
    adjectives: ['Cedar', 'Fig', 'Sea Salt', 'Amber', 'Lavender', 'Smoked Oak', 'Citrus', 'Vetiver', 'Pine'],
    nouns: ['Candle', 'Soy Candle', 'Travel Tin'], tags: ['candles', 'fragrance'],
  },
  {
    productType: 'Home Decor', world: 'home', share: 0.07, priceMedian: 42, priceSigma: 0.55, optionName: 'Title',
    options: single, consumable: false, complementType: 'Candles', vendors: ['Quiet Hours', 'Loomhouse'],
    adjectives: ['Linen', 'Woven', 'Brass', 'Oak', 'Wool', 'Terracotta'],
    nouns: ['Throw', 'Cushion Cover', 'Candle Holder', 'Vase', 'Tray', 'Basket'], tags: ['home'],
  },
  {
    productType: 'Notebooks', world: 'desk', share: 0.07, priceMedian: 14, priceSigma: 0.3, optionName: 'Ruling',
    options: [{ value: 'Dotted', priceFactor: 1 }, { value: 'Lined', priceFactor: 1 }, { value: 'Blank', priceFactor: 1 }],
    consumable: true, complementType: 'Pens', vendors: ['Paperfold'],
    adjectives: ['Pocket', 'A5', 'Hardcover', 'Field', 'Recycled', 'Weekly'],
    nouns: ['Notebook', 'Journal', 'Planner', 'Sketchbook'], tags: ['stationery', 'paper'],
  },
  {
    productType: 'Pens', world: 'desk', share: 0.05, priceMedian: 9, priceSigma: 0.5, optionName: 'Title',
    options: single, consumable: true, complementType: 'Notebooks', vendors: ['Paperfold', 'Inkwell Supply'],
    adjectives: ['Gel', 'Fineliner', 'Brass', 'Fountain', 'Brush'],
    nouns: ['Pen', 'Pen Set', 'Refills'], tags: ['stationery', 'writing'],
  },
  {
    productType: 'Skincare', world: 'care', share: 0.07, priceMedian: 22, priceSigma: 0.35, optionName: 'Size',
    options: [{ value: '50ml', priceFactor: 1 }, { value: '100ml', priceFactor: 1.6 }],
    consumable: true, complementType: null, vendors: ['Saltmarsh Botanics'],
    adjectives: ['Oat', 'Rosehip', 'Sea Buckthorn', 'Calendula', 'Unscented', 'Green Tea'],
    nouns: ['Face Oil', 'Hand Cream', 'Balm', 'Cleanser', 'Body Lotion'], tags: ['skincare', 'vegan'],
  },
];

/** Lines with no product behind them (productId null): what merchants add by hand. */
export const CUSTOM_ITEMS = [
  { title: 'Gift wrapping', price: '4.00' },
  { title: 'Handwritten card', price: '3.50' },
  { title: 'Custom engraving', price: '12.00' },
];

export const DISCOUNTS = {
  welcome: { code: 'WELCOME10', percent: 10 },
  seasonal: { code: 'SAVE15', percent: 15 },
};

export const CUSTOMER_NOTES = [
  'Prefers contact by email',
  'Asked for plastic-free packaging',
  'Met at the spring pop-up market',
  'Wholesale enquiry pending',
  'Allergic to nuts, check ingredients before suggesting',
  'Birthday in June',
  'Ships to office on weekdays',
  'Referred by a friend',
];

export const ORDER_NOTES = [
  'Please leave the parcel with the neighbour',
  'Gift: please do not include the receipt',
  'Ring the bell twice',
  'Deliver after 5pm please',
  'Happy birthday, Sam!',
];
