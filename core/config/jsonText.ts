/**
 * JSON files as people write them: parsed with the runtime's JSON.parse (fast), and, only when a
 * message needs a place in the file, scanned once more to learn where things are. The scanner follows
 * the JSON grammar exactly, so it also explains what JSON.parse only rejects: its messages name the
 * usual mistakes (trailing commas, comments, single quotes, unquoted names) and always carry a line
 * and column, which JSON.parse's messages do not.
 */

export interface TextPosition {
  /** Offset in the text after the byte-order mark is removed. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units as editors count them. */
  column: number;
}

/**
 * A property name written twice in one object. JSON.parse keeps the last value and drops the first
 * without a word, so a doubled `ImagePaths` would silently change what a lab receives.
 */
export interface DuplicateKey {
  name: string;
  /** The object holding both, as a JSON pointer. */
  objectPointer: string;
  first: TextPosition;
  second: TextPosition;
}

export type JsonParseResult =
  | { ok: true; value: unknown; text: string; duplicates: DuplicateKey[] }
  | { ok: false; message: string; position: TextPosition };

const BOM = '\uFEFF';

/** Parses JSON text; a UTF-8 byte-order mark (decoded as U+FEFF) is accepted and removed. */
export function parseJson(raw: string): JsonParseResult {
  const text = raw.startsWith(BOM) ? raw.slice(1) : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (parseError) {
    const lines = new LineIndex(text);
    try {
      new JsonScanner(text, false).scanDocument();
    } catch (error) {
      if (error instanceof JsonSyntaxError) {
        return { ok: false, message: error.message, position: lines.position(error.offset) };
      }
      throw error;
    }
    // The scanner accepts everything JSON.parse accepts and the other way round; should they ever
    // disagree, the runtime's own words are the best explanation left.
    return { ok: false, message: (parseError as Error).message, position: lines.position(0) };
  }
  return { ok: true, value, text, duplicates: findDuplicateKeys(text) };
}

/** Every property name written twice in one object, in reading order; a second scan of parsed text. */
function findDuplicateKeys(text: string): DuplicateKey[] {
  const scan = (pointers: boolean) => {
    const scanner = new JsonScanner(text, false, [], pointers);
    try {
      scanner.scanDocument();
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
    }
    return scanner.duplicates!;
  };
  // The first pass builds no JSON pointers (most of a scan's cost); only a file with a doubled name
  // is scanned again to learn which object holds it.
  if (scan(false).length === 0) return [];
  const found = scan(true);
  const lines = new LineIndex(text);
  return found.map((d) => ({ name: d.name, objectPointer: d.objectPointer, first: lines.position(d.first), second: lines.position(d.second) }));
}

/** Line starts of a text, to turn offsets into lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  position(offset: number): TextPosition {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { offset, line: low + 1, column: offset - this.starts[low] + 1 };
  }
}

/**
 * Where each value and each property name of a parsed document starts, by JSON pointer (the form
 * ajv's `instancePath` uses: `/Labs/3/LabName`, `~` and `/` escaped as `~0` and `~1`). Built on the
 * first question, once.
 */
export class JsonLocator {
  private values?: Map<string, number>;
  private keys?: Map<string, number>;
  private lines?: LineIndex;

  constructor(private readonly text: string) {}

  /** The start of the value at `pointer` ('' is the whole document). */
  value(pointer: string): TextPosition | undefined {
    this.build();
    const offset = this.values!.get(pointer);
    return offset === undefined ? undefined : this.lines!.position(offset);
  }

  /** The start of the property name at `pointer`, falling back to its value. */
  key(pointer: string): TextPosition | undefined {
    this.build();
    const offset = this.keys!.get(pointer);
    return offset === undefined ? this.value(pointer) : this.lines!.position(offset);
  }

  private build(): void {
    if (this.values) return;
    const scanner = new JsonScanner(this.text, true);
    try {
      scanner.scanDocument();
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      // A document JSON.parse accepted scans cleanly; if not, positions found so far still hold.
    }
    this.values = scanner.values;
    this.keys = scanner.keys;
    this.lines = new LineIndex(this.text);
  }
}

/** `['Labs', 3, 'LabName']` -> `/Labs/3/LabName`. */
export function jsonPointer(segments: readonly (string | number)[]): string {
  let pointer = '';
  for (const segment of segments) pointer += `/${escapePointerSegment(String(segment))}`;
  return pointer;
}

function escapePointerSegment(segment: string): string {
  return segment.includes('~') || segment.includes('/') ? segment.replace(/~/g, '~0').replace(/\//g, '~1') : segment;
}

/** `/Labs/3/Image Paths` -> `$.Labs[3]['Image Paths']`, the form messages show. */
export function jsonPathOf(pointer: string): string {
  if (pointer === '') return '$';
  let path = '$';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(segment)) path += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const enum Ch {
  Tab = 9,
  LineFeed = 10,
  Return = 13,
  Space = 32,
  Quote = 34,
  Apostrophe = 39,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  OpenBracket = 91,
  Backslash = 92,
  CloseBracket = 93,
  OpenBrace = 123,
  CloseBrace = 125,
}

/** A validating recursive-descent scanner over the JSON grammar (RFC 8259) that records positions. */
class JsonScanner {
  readonly values = new Map<string, number>();
  readonly keys = new Map<string, number>();
  private pos = 0;
  private depth = 0;

  /**
   * @param record  record where each value and property name starts (for JsonLocator)
   * @param duplicates  when given, collects property names written twice in one object
   * @param pointers  build the JSON pointer of each value (always when recording)
   */
  constructor(
    private readonly text: string,
    private readonly record: boolean,
    readonly duplicates?: { name: string; objectPointer: string; first: number; second: number }[],
    private readonly pointers: boolean = record,
  ) {}

  scanDocument(): void {
    this.skipSpace();
    if (this.pos >= this.text.length) throw new JsonSyntaxError('the file is empty; expected a JSON value', this.pos);
    this.scanValue('');
    this.skipSpace();
    if (this.pos < this.text.length) {
      throw new JsonSyntaxError(
        `unexpected ${this.describeHere()} after the end of the JSON value; a file holds exactly one value`,
        this.pos,
      );
    }
  }

  private scanValue(pointer: string): void {
    if (this.record) this.values.set(pointer, this.pos);
    const c = this.text.charCodeAt(this.pos);
    if (c === Ch.OpenBrace) return this.scanObject(pointer);
    if (c === Ch.OpenBracket) return this.scanArray(pointer);
    if (c === Ch.Quote) {
      this.scanString(false);
      return;
    }
    if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.scanNumber();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    throw this.unexpected('a value (an object, array, string, number, true, false or null)');
  }

  private scanObject(pointer: string): void {
    if (this.open(Ch.CloseBrace)) return;
    const names = this.duplicates ? new Map<string, number>() : undefined;
    let comma = -1;
    do {
      const c = this.text.charCodeAt(this.pos);
      if (c !== Ch.Quote) {
        if (c === Ch.CloseBrace) throw new JsonSyntaxError("a trailing comma before '}' is not allowed in JSON", comma);
        if (c === Ch.Apostrophe) throw new JsonSyntaxError('property names must be in double quotes, not single quotes', this.pos);
        if (/[A-Za-z_$]/.test(this.text[this.pos] ?? '')) {
          throw new JsonSyntaxError('property names must be in double quotes', this.pos);
        }
        throw this.unexpected("a property name in double quotes or '}'");
      }
      const keyStart = this.pos;
      const name = this.scanString(true);
      const child = this.pointers ? `${pointer}/${escapePointerSegment(name)}` : '';
      if (this.record) this.keys.set(child, keyStart);
      if (names) {
        const first = names.get(name);
        if (first === undefined) names.set(name, keyStart);
        else this.duplicates!.push({ name, objectPointer: pointer, first, second: keyStart });
      }
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== Ch.Colon) throw this.unexpected(`':' after the property name "${name}"`);
      this.pos++;
      this.skipSpace();
      this.scanValue(child);
      comma = this.separator(Ch.CloseBrace, 'properties', "',' or '}' after a property value");
    } while (comma >= 0);
  }

  private scanArray(pointer: string): void {
    if (this.open(Ch.CloseBracket)) return;
    let comma = -1;
    let index = 0;
    do {
      if (this.text.charCodeAt(this.pos) === Ch.CloseBracket) {
        throw new JsonSyntaxError("a trailing comma before ']' is not allowed in JSON", comma);
      }
      this.scanValue(this.pointers ? `${pointer}/${index++}` : '');
      comma = this.separator(Ch.CloseBracket, 'array items', "',' or ']' after an array item");
    } while (comma >= 0);
  }

  /** Steps into an object or array; true when it is empty and already closed. */
  private open(close: number): boolean {
    // Deep enough for any configuration, shallow enough never to exhaust the stack.
    if (++this.depth > 500) throw new JsonSyntaxError('the JSON is nested more than 500 levels deep', this.pos);
    this.pos++;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) !== close) return false;
    this.pos++;
    this.depth--;
    return true;
  }

  /** After a member: the offset of the ',' before the next one, or -1 when `close` ended the container. */
  private separator(close: number, members: string, expected: string): number {
    this.skipSpace();
    const next = this.text.charCodeAt(this.pos);
    if (next === Ch.Comma) {
      const comma = this.pos++;
      this.skipSpace();
      return comma;
    }
    if (next === close) {
      this.pos++;
      this.depth--;
      return -1;
    }
    if (next === Ch.Quote || (close === Ch.CloseBracket && (next === Ch.OpenBrace || next === Ch.OpenBracket))) {
      throw new JsonSyntaxError(`missing ',' between ${members}`, this.pos);
    }
    throw this.unexpected(expected);
  }

  /** Scans a string token; returns its value when `keep` (property names), else ''. */
  private scanString(keep: boolean): string {
    const start = this.pos;
    this.pos++;
    let value = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) throw new JsonSyntaxError('a string is not closed (no ending double quote)', start);
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.Quote) {
        if (keep) value += this.text.slice(chunk, this.pos);
        this.pos++;
        return value;
      }
      if (c === Ch.Backslash) {
        if (keep) value += this.text.slice(chunk, this.pos);
        const escaped = this.scanEscape();
        if (keep) value += escaped;
        chunk = this.pos;
        continue;
      }
      if (c < 0x20) {
        throw new JsonSyntaxError(
          c === Ch.LineFeed || c === Ch.Return
            ? 'a string is not closed before the end of the line'
            : 'a control character in a string must be escaped',
          this.pos,
        );
      }
      this.pos++;
    }
  }

  private scanEscape(): string {
    const at = this.pos;
    const e = this.text[this.pos + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (e !== undefined && e in simple) {
      this.pos += 2;
      return simple[e];
    }
    if (e === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
        this.pos += 6;
        return String.fromCharCode(parseInt(hex, 16));
      }
      throw new JsonSyntaxError('\\u must be followed by four hexadecimal digits', at);
    }
    throw new JsonSyntaxError(
      `'\\${e ?? ''}' is not a JSON escape; write a backslash as '\\\\' (Windows paths may also use '/')`,
      at,
    );
  }

  private scanNumber(): void {
    const match = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.pos;
    const found = match.exec(this.text);
    if (!found || found[0] === '-') throw new JsonSyntaxError('a number is not written as JSON allows', this.pos);
    this.pos += found[0].length;
    const c = this.text.charCodeAt(this.pos);
    if ((c >= Ch.Zero && c <= Ch.Nine) || c === Ch.Dot || c === Ch.Plus || c === Ch.Minus || /[A-Za-z_]/.test(this.text[this.pos] ?? '')) {
      throw new JsonSyntaxError('a number is not written as JSON allows (no leading zeros, hex, NaN or trailing dot)', this.pos);
    }
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c === Ch.Space || c === Ch.LineFeed || c === Ch.Return || c === Ch.Tab) this.pos++;
      else if (c === Ch.Slash && (this.text[this.pos + 1] === '/' || this.text[this.pos + 1] === '*')) {
        throw new JsonSyntaxError('comments are not allowed in JSON', this.pos);
      } else return;
    }
  }

  private unexpected(expected: string): JsonSyntaxError {
    const c = this.text.charCodeAt(this.pos);
    if (c === Ch.Apostrophe) return new JsonSyntaxError('strings must be in double quotes, not single quotes', this.pos);
    return new JsonSyntaxError(`expected ${expected}, found ${this.describeHere()}`, this.pos);
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    const word = /[A-Za-z0-9_$.+-]+/y;
    word.lastIndex = this.pos;
    const found = word.exec(this.text);
    if (found) return `'${found[0].length > 20 ? `${found[0].slice(0, 20)}...` : found[0]}'`;
    return `'${String.fromCodePoint(this.text.codePointAt(this.pos)!)}'`;
  }
}
