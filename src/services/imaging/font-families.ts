/** The bundled typefaces' names (light: the option schemas import it; lockup-fonts.ts loads the files). */
export const FONT_FAMILIES = ["inter", "lora", "montserrat"] as const;
export type FontFamily = (typeof FONT_FAMILIES)[number];

export const FONT_DESCRIPTIONS: Record<FontFamily, string> = {
  inter: "Inter SemiBold (sans-serif)",
  lora: "Lora SemiBold (serif)",
  montserrat: "Montserrat SemiBold (geometric)",
};
