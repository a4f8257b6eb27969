/** The explorer's families (src/explore/families/*.ts, one file per family). */
export { FAMILIES, type Family, type FamilyParts, FIXED_BASELINE, familyModel } from './families/index.js';
