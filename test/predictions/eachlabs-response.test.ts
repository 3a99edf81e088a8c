import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_OUTPUT_IMAGES } from "../../src/domain/limits";
import {
  DEFAULT_ERROR_CODE,
  extractProviderError,
  interpretEachlabsPrediction,
  MAX_ERROR_MESSAGE_LENGTH,
  mapEachlabsStatus,
  normaliseOutput,
  safeErrorCode,
} from "../../src/services/providers/eachlabs-response";

const A = "https://cdn.example.com/a.png";
const B = "http://cdn.example.com/b.webp";

describe("mapEachlabsStatus", () => {
  test.each([
    ["success", "succeeded"],
    ["SUCCESS", "succeeded"],
    [" success ", "succeeded"],
    ["succeeded", "succeeded"],
    ["error", "failed"],
    ["failed", "failed"],
    ["Failed", "failed"],
    ["cancelled", "canceled"],
    ["canceled", "canceled"],
    ["created", "processing"],
    ["starting", "processing"],
    ["queued", "processing"],
    ["processing", "processing"],
    ["in_progress", "processing"],
    ["", "processing"],
  ] as const)("%p → %p", (input, expected) => {
    expect(mapEachlabsStatus(input)).toBe(expected);
  });

  test.each([[undefined], [null], [1], [{}], [["success"]], [true]])("non-string %p → processing", (input) => {
    expect(mapEachlabsStatus(input)).toBe("processing");
  });

  test("any string maps to one of our four statuses", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(["processing", "succeeded", "failed", "canceled"]).toContain(mapEachlabsStatus(s));
      }),
    );
  });
});

describe("normaliseOutput", () => {
  test.each([
    ["a URL string", A, [A]],
    ["an array of URL strings", [A, B], [A, B]],
    ["an object with url", { url: A }, [A]],
    ["an array of objects with url", [{ url: A }, { url: B, width: 1024 }], [A, B]],
    ["a mixed array", [A, { url: B }], [A, B]],
    ["a string with spaces around", `  ${A}\n`, [A]],
  ] as const)("%s", (_name, output, expected) => {
    expect(normaliseOutput(output)).toEqual([...expected]);
  });

  test.each([
    ["null", null],
    ["undefined", undefined],
    ["an empty string", ""],
    ["an empty array", []],
    ["an empty object", {}],
    ["a number", 42],
    ["a non-URL string", "Generation failed"],
    ["a data: URL", "data:image/png;base64,AAAA"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["an ftp URL", "ftp://example.com/a.png"],
    ["an object whose url is not a string", { url: 5 }],
    ["an error object", { error_code: "X", error_message: "no" }],
    ["an array of junk", [null, 3, "nope", { nope: A }]],
    ["a nested array", [[A]]],
    ["an over-long URL", `https://e.com/${"a".repeat(2100)}`],
  ] as const)("%s → null", (_name, output) => {
    expect(normaliseOutput(output)).toBeNull();
  });

  test("drops unusable items and keeps the rest in order", () => {
    expect(normaliseOutput([null, A, "nope", { url: B }, { url: "file:///etc/passwd" }])).toEqual([A, B]);
  });

  test("keeps at most MAX_OUTPUT_IMAGES", () => {
    const many = Array.from({ length: 25 }, (_, i) => `https://cdn.example.com/${i}.png`);
    expect(normaliseOutput(many)).toHaveLength(MAX_OUTPUT_IMAGES);
  });

  test("property: the result is null or a non-empty list of http(s) URLs, for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const out = normaliseOutput(value);
        if (out === null) return;
        expect(out.length).toBeGreaterThan(0);
        expect(out.length).toBeLessThanOrEqual(MAX_OUTPUT_IMAGES);
        for (const u of out) expect(["http:", "https:"]).toContain(new URL(u).protocol);
      }),
    );
  });

  test("property: every web URL survives in every documented shape", () => {
    fc.assert(
      fc.property(fc.array(fc.webUrl({ validSchemes: ["https", "http"] }), { minLength: 1, maxLength: 4 }), (urls) => {
        const first = urls[0] as string;
        expect(normaliseOutput(first)).toEqual([first]);
        expect(normaliseOutput(urls)).toEqual(urls);
        expect(normaliseOutput({ url: first })).toEqual([first]);
        expect(normaliseOutput(urls.map((url) => ({ url })))).toEqual(urls);
      }),
    );
  });
});

describe("extractProviderError", () => {
  test("the documented {error_code, error_message} output", () => {
    expect(
      extractProviderError({
        status: "error",
        output: { error_code: "PROVIDER_REJECTED", error_message: "Content policy violation" },
      }),
    ).toEqual({ code: "provider_rejected", message: "Content policy violation" });
  });

  test("an output with code/message spelling", () => {
    expect(extractProviderError({ output: { code: "NSFW", message: "Flagged" } })).toEqual({
      code: "nsfw",
      message: "Flagged",
    });
  });

  test("an output object with only an error string", () => {
    expect(extractProviderError({ output: { error: "GPU out of memory" } })).toEqual({
      code: DEFAULT_ERROR_CODE,
      message: "GPU out of memory",
    });
  });

  test("a plain string output (old models)", () => {
    expect(extractProviderError({ status: "failed", output: "Model crashed" })).toEqual({
      code: DEFAULT_ERROR_CODE,
      message: "Model crashed",
    });
  });

  test("logs as a string", () => {
    expect(extractProviderError({ status: "error", output: null, logs: "step 1\nRuntimeError: boom" })).toEqual({
      code: DEFAULT_ERROR_CODE,
      message: "step 1 RuntimeError: boom",
    });
  });

  test("logs as a list of lines: the last ones", () => {
    const logs = ["l1", "l2", "l3", "l4", "l5", "", "Error: out of credits"];
    expect(extractProviderError({ status: "error", logs }).message).toBe("l2 l3 l4 l5 Error: out of credits");
  });

  test("a top-level error string or object", () => {
    expect(extractProviderError({ status: "error", error: "Timed out" })).toEqual({
      code: DEFAULT_ERROR_CODE,
      message: "Timed out",
    });
    expect(extractProviderError({ error: { code: "Rate-Limited!", message: "slow down" } })).toEqual({
      code: "rate_limited",
      message: "slow down",
    });
  });

  test("the output's error wins over logs", () => {
    expect(
      extractProviderError({ output: { error_code: "E1", error_message: "from output" }, logs: "from logs" }),
    ).toEqual({ code: "e1", message: "from output" });
  });

  test("a URL output is not mistaken for a message", () => {
    expect(extractProviderError({ status: "error", output: A, logs: "real reason" }).message).toBe("real reason");
  });

  test.each([[undefined], [null], [{}], [{ status: "error" }], [{ output: {} }], [{ output: 5 }], ["oops"], [[1, 2]]])(
    "nothing usable in %p → defaults",
    (body) => {
      const e = extractProviderError(body);
      expect(e.code).toBe(DEFAULT_ERROR_CODE);
      expect(e.message.length).toBeGreaterThan(0);
    },
  );

  test("a long message is truncated to 500 characters, control characters removed", () => {
    const e = extractProviderError({ output: { error_code: "X", error_message: `a\u0000b\u001b${"z".repeat(2000)}` } });
    expect(e.message.length).toBe(MAX_ERROR_MESSAGE_LENGTH);
    expect(e.message.startsWith("a b z")).toBe(true);
  });

  test("property: code is safe snake_case and message is bounded, for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), (output, logs, error) => {
        const e = extractProviderError({ status: "error", output, logs, error });
        expect(e.code).toMatch(/^[a-z0-9]+(_[a-z0-9]+)*$/);
        expect(e.code.length).toBeLessThanOrEqual(64);
        expect(e.message.length).toBeGreaterThan(0);
        expect(e.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
      }),
    );
  });
});

describe("safeErrorCode", () => {
  test.each([
    ["PROVIDER_REJECTED", "provider_rejected"],
    ["Content Policy", "content_policy"],
    ["--x--", "x"],
    [429, "429"],
    ["", DEFAULT_ERROR_CODE],
    ["!!!", DEFAULT_ERROR_CODE],
    [null, DEFAULT_ERROR_CODE],
    [{ a: 1 }, DEFAULT_ERROR_CODE],
  ] as const)("%p → %p", (input, expected) => {
    expect(safeErrorCode(input)).toBe(expected);
  });

  test("long codes are cut to 64 without a trailing underscore", () => {
    const code = safeErrorCode(`${"a".repeat(63)}_b`);
    expect(code).toBe("a".repeat(63));
  });
});

describe("interpretEachlabsPrediction", () => {
  test("success with output → succeeded", () => {
    const body = { id: "p1", status: "success", output: [{ url: A }] };
    expect(interpretEachlabsPrediction("p1", body)).toEqual({
      id: "p1",
      status: "succeeded",
      output: [A],
      error: null,
      raw: body,
    });
  });

  test.each([[null], [[]], [""], [{}], ["not a url"], [[{ url: "" }]]])(
    "success without a usable output (%p) → failed empty_output",
    (output) => {
      const p = interpretEachlabsPrediction("p1", { id: "p1", status: "success", output });
      expect(p.status).toBe("failed");
      expect(p.output).toBeNull();
      expect(p.error?.code).toBe("empty_output");
    },
  );

  test("error → failed with the extracted error", () => {
    const p = interpretEachlabsPrediction("p1", {
      status: "error",
      output: { error_code: "PROVIDER_REJECTED", error_message: "no" },
    });
    expect(p).toMatchObject({
      status: "failed",
      output: null,
      error: { code: "provider_rejected", message: "no" },
    });
  });

  test.each(["cancelled", "canceled"])("%s → canceled, no output, no error", (status) => {
    expect(interpretEachlabsPrediction("p1", { status, output: [A] })).toMatchObject({
      status: "canceled",
      output: null,
      error: null,
    });
  });

  test("pending statuses and a missing status → processing, output ignored", () => {
    for (const body of [{ status: "starting", output: [A] }, { status: "queued" }, {}, { status: "weird" }]) {
      expect(interpretEachlabsPrediction("p1", body)).toMatchObject({
        status: "processing",
        output: null,
        error: null,
      });
    }
  });

  test("the requested id is used when the body has none", () => {
    expect(interpretEachlabsPrediction("p9", { status: "processing" }).id).toBe("p9");
  });

  test("property: the result always honours the ProviderPrediction invariants", () => {
    const status = fc.oneof(
      fc.constantFrom("success", "error", "failed", "cancelled", "canceled", "created", "queued", "starting"),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(status, fc.jsonValue(), fc.jsonValue(), (s, output, logs) => {
        const p = interpretEachlabsPrediction("p", { status: s, output, logs });
        if (p.status === "succeeded") expect(p.output?.length).toBeGreaterThan(0);
        else expect(p.output).toBeNull();
        if (p.status === "failed") expect(p.error).not.toBeNull();
        else expect(p.error).toBeNull();
      }),
    );
  });
});
