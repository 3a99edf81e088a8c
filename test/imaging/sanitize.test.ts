import { describe, expect, test } from "bun:test";
import { sanitizeSvg } from "../../src/services/imaging";
import { ImagingError } from "../../src/services/imaging/types";

const ALLOWED = new Set(["svg", "g", "path", "rect", "circle", "ellipse", "polygon", "polyline", "title", "desc"]);

function elements(svg: string): string[] {
  return [...svg.matchAll(/<([A-Za-z][\w:.-]*)/g)].map((m) => m[1] ?? "");
}

function expectClean(svg: string) {
  for (const el of elements(svg)) expect(ALLOWED.has(el)).toBe(true);
  const lower = svg.toLowerCase();
  for (const bad of [
    "script",
    "javascript:",
    "onload",
    "onclick",
    "onerror",
    "href",
    "url(",
    "foreignobject",
    "<style",
    "<image",
    "<use",
    "data:",
    "@import",
  ])
    expect(lower).not.toContain(bad);
  // Well-formed enough to be parsed again to the same result.
  expect(sanitizeSvg(svg)).toBe(svg);
}

describe("SVG sanitiser", () => {
  test("keeps shapes, geometry and paint", () => {
    const out = sanitizeSvg(
      `<?xml version="1.0"?><!-- hi --><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10"><title>Logo &amp; co</title><g transform="translate(1 1)" opacity="0.5"><path d="M0 0L5 5Z" fill="#FF0000" stroke="#000" stroke-width="1"/><rect x="1" y="1" width="2" height="2" rx="1"/><circle cx="5" cy="5" r="2"/><ellipse cx="5" cy="5" rx="2" ry="1"/><polygon points="0,0 1,1 0,1"/><polyline points="0,0 1,1"/></g></svg>`,
    );
    expect(out).toContain('viewBox="0 0 10 10"');
    expect(out).toContain('<path d="M0 0L5 5Z" fill="#FF0000" stroke="#000" stroke-width="1"/>');
    expect(out).toContain("<title>Logo &amp; co</title>");
    expect(out).toContain('transform="translate(1 1)"');
    expect(elements(out)).toEqual(["svg", "title", "g", "path", "rect", "circle", "ellipse", "polygon", "polyline"]);
    expectClean(out);
  });

  const hostile: Record<string, string> = {
    script: `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><script type="text/ecmascript"><![CDATA[alert(2)]]></script><rect width="1" height="1"/></svg>`,
    onload: `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1" onclick="alert(2)" ONMOUSEOVER="x()"/></svg>`,
    foreignObject: `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="javascript:alert(1)"></iframe></body></foreignObject><circle r="1"/></svg>`,
    image: `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image href="https://evil.example/x.png" width="10" height="10"/><image xlink:href="data:image/png;base64,AAAA"/><rect width="1" height="1"/></svg>`,
    style: `<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css); rect { fill: url(https://evil.example/#x) }</style><rect width="1" height="1" style="fill:url(https://evil.example/a);stroke:#000;behavior:url(x.htc)"/></svg>`,
    javascriptUrl: `<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect width="1" height="1"/></a><path d="M0 0" fill="javascript:alert(1)"/><rect width="1" height="1" fill="&#106;avascript:alert(1)"/></svg>`,
    externalUse: `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><path id="p" d="M0 0"/></defs><use href="https://evil.example/sprite.svg#x"/><use xlink:href="#p"/><rect width="1" height="1" fill="url(#p)" filter="url(https://evil.example/f)" mask="url(#m)"/></svg>`,
    entities: `<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY lol "lol">]><svg xmlns="http://www.w3.org/2000/svg"><title>&xxe;&lol;</title><rect width="1" height="1" fill="&lol;"/></svg>`,
    animate: `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"><animate attributeName="href" to="javascript:alert(1)"/><set attributeName="onclick" to="alert(1)"/></rect><text>hi</text></svg>`,
    namespaced: `<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://evil"><x:script>alert(1)</x:script><svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script><rect width="1" height="1" x:onload="alert(1)"/></svg>`,
  };
  for (const [name, input] of Object.entries(hostile)) {
    test(`hostile: ${name}`, () => {
      const out = sanitizeSvg(input);
      expectClean(out);
      expect(out).toContain("<svg");
    });
  }

  test("style attribute declarations with safe values become attributes", () => {
    const out = sanitizeSvg(
      `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1" style="fill:#00FF00; stroke: url(#x); opacity:0.5"/></svg>`,
    );
    expect(out).toContain('fill="#00FF00"');
    expect(out).toContain('opacity="0.5"');
    expect(out).not.toContain("stroke");
  });

  test("line becomes an equivalent path", () => {
    const out = sanitizeSvg(
      `<svg xmlns="http://www.w3.org/2000/svg"><line x1="1" y1="2" x2="3" y2="4" stroke="#000"/></svg>`,
    );
    expect(out).toContain('<path stroke="#000" d="M1 2L3 4"/>');
  });

  test("markup in attribute values is escaped on output", () => {
    const out = sanitizeSvg(
      `<svg xmlns="http://www.w3.org/2000/svg" aria-label="a &quot;b&quot; &amp; c"><rect width="1" height="1"/></svg>`,
    );
    expect(out).toContain('aria-label="a &quot;b&quot; &amp; c"');
  });

  const refused: Record<string, string> = {
    "not svg root": `<html><svg xmlns="http://www.w3.org/2000/svg"></svg></html>`,
    unclosed: `<svg xmlns="http://www.w3.org/2000/svg"><g><rect/></svg>`,
    mismatched: `<svg xmlns="http://www.w3.org/2000/svg"><g></rect></svg>`,
    "unquoted attribute": `<svg xmlns="http://www.w3.org/2000/svg"><rect width=1/></svg>`,
    "two roots": `<svg xmlns="http://www.w3.org/2000/svg"></svg><svg></svg>`,
    "deep nesting": `<svg xmlns="http://www.w3.org/2000/svg">${"<g>".repeat(500)}${"</g>".repeat(500)}</svg>`,
    "duplicate attribute": `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" width="2"/></svg>`,
  };
  for (const [name, input] of Object.entries(refused)) {
    test(`refused: ${name}`, () => {
      let err: unknown;
      try {
        sanitizeSvg(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImagingError);
      expect((err as ImagingError).code).toBe("source_invalid");
    });
  }
});
