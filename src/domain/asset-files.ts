/** The files each kind of deliverable makes: one list, for the catalog, the image layer and the kit's zip. */

/** The icon set, as the `icons` kind makes it and the brand kit holds it under `icons/`. */
export const ICON_FILES = [
  "favicon.ico",
  "favicon.svg",
  "apple-touch-icon.png",
  "icon-192.png",
  "icon-512.png",
  "icon-maskable-512.png",
  "site.webmanifest",
  "head.html",
] as const;

/** What `brand-kit.zip` holds, in its order. */
export const BRAND_KIT_FILES = [
  "logo.svg",
  "logo.pdf",
  "logo-black.svg",
  "logo-white.svg",
  "logo-512.png",
  "logo-1024.png",
  "logo-2048.png",
  "logo-transparent.png",
  ...ICON_FILES.map((f) => `icons/${f}`),
  "social/avatar-400.png",
  "social/og-1200x630.png",
  "lockup-horizontal.svg",
  "lockup-horizontal.png",
  "lockup-stacked.svg",
  "lockup-stacked.png",
  "palette.json",
  "palette.css",
  "README.txt",
] as const;
