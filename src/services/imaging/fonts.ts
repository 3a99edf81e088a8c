import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The bundled DejaVu TTFs: resvg runs with system fonts off, so text renders the same on every host. */
const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");

export const DEJAVU_SANS = join(dir, "DejaVuSans.ttf");
export const DEJAVU_SANS_BOLD = join(dir, "DejaVuSans-Bold.ttf");

/** resvg options shared by every render: bundled fonts only, DejaVu Sans as every generic family. */
export const resvgFont = {
  loadSystemFonts: false,
  fontFiles: [DEJAVU_SANS, DEJAVU_SANS_BOLD],
  defaultFontFamily: "DejaVu Sans",
  sansSerifFamily: "DejaVu Sans",
  serifFamily: "DejaVu Sans",
  monospaceFamily: "DejaVu Sans",
  cursiveFamily: "DejaVu Sans",
  fantasyFamily: "DejaVu Sans",
};
