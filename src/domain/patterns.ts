/** Text patterns the contract and the services both check. */

/** A colour as #RRGGBB. */
export const HEX_COLOR = /^#[0-9A-Fa-f]{6}$/;

/** Free text: any characters but NUL (which PostgreSQL text cannot hold). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: excluding NUL is the point.
export const NO_NUL = /^[^\x00]*$/;

/** One line of text: no control characters (no NUL, no terminal escapes, no line breaks). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
export const SINGLE_LINE = /^[^\x00-\x1f\x7f]*$/;

/** As SINGLE_LINE, but tabs and line breaks are allowed. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to reject them
export const MULTI_LINE = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;

/** A sandbox prediction id: `sbx_<created, base 36>_<image count>_<random hex>`. */
export const SANDBOX_ID = /^sbx_([0-9a-z]{1,12})_([1-9])_([0-9a-f]{16})$/;
