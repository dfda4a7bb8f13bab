// The whole token vocabulary of the .rnn language, in one place.
// Hard keywords can never be names; soft keywords (units, eval words) are also Identifiers
// through Chevrotain token categories, so `steps` or `best` stay usable as names elsewhere.
import { createToken, Lexer, type TokenType } from "./chevrotain.js";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

function keyword(word: string, soft = false): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    ...(soft ? { categories: [Identifier] } : {}),
  });
}

export const Model = keyword("model");
export const Data = keyword("data");
export const Dims = keyword("dims");
export const Params = keyword("params");
export const Latent = keyword("latent");
export const Observe = keyword("observe");
export const Input = keyword("input");
export const Train = keyword("train");
export const Eval = keyword("eval");
export const Sweep = keyword("sweep");
export const Fn = keyword("fn");
export const Let = keyword("let");
export const Const = keyword("const");
export const Require = keyword("require");
export const For = keyword("for");
export const In = keyword("in");
export const From = keyword("from");
export const Init = keyword("init");
export const True = keyword("true");
export const False = keyword("false");

// Soft keywords: meaningful only in one position, otherwise ordinary names.
export const Every = keyword("every", true);
export const Generate = keyword("generate", true);
export const Keep = keyword("keep", true);
export const Best = keyword("best", true);
export const By = keyword("by", true);
/** Units that may follow a number: `25 epochs`, `100000 steps`. */
export const Unit = createToken({
  name: "Unit",
  pattern: /(?:epochs|epoch|steps|step|sequences|batches)(?![A-Za-z0-9_])/,
  categories: [Identifier],
  label: "a unit (epochs, steps, sequences, batches)",
});

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/,
  label: "a number",
});
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\n\r]|\\.)*"/,
  label: "a string",
});

export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "';'" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Dot = createToken({ name: "Dot", pattern: /\./, label: "'.'" });
export const Prime = createToken({ name: "Prime", pattern: /'/, label: "a prime (')" });

export const EqEq = createToken({ name: "EqEq", pattern: /==/, label: "'=='" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, label: "'!='" });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/, label: "'<='" });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/, label: "'>='" });
export const Less = createToken({ name: "Less", pattern: /</, label: "'<'" });
export const Greater = createToken({ name: "Greater", pattern: />/, label: "'>'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });

export const Power = createToken({ name: "Power", pattern: /\*\*|\^/, label: "'^'" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "'-'" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "'/'" });
export const Percent = createToken({ name: "Percent", pattern: /%/, label: "'%'" });
export const At = createToken({ name: "At", pattern: /@/, label: "'@'" });

// ---- look-alikes: non-ASCII characters a scientist copies from a paper or a word processor ----
// They are lexed as the ASCII token they stand for (via categories), so the parser goes on as if
// the right character had been typed; grammar/index.ts reports each one as RNN-E001 with the fix.
// Without this, a single `α` or `×` would cascade into a series of syntax errors.
/** A name containing a non-ASCII letter (Greek, accented Latin, subscript digits): `α`, `W₁`. */
export const NonAsciiName = createToken({
  name: "NonAsciiName",
  pattern: /[A-Za-z0-9_]*[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0370-\u03FF\u1E00-\u1FFF\u2080-\u2089\u00B9\u00B2\u00B3\u2070-\u2079][A-Za-z0-9_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u0370-\u03FF\u1E00-\u1FFF\u2080-\u2089\u00B9\u00B2\u00B3\u2070-\u2079]*/,
  categories: [Identifier],
  label: "a name",
});
/** `“AW”`, `` `AW` ``: strings in typographic quotes or backticks. */
export const OddString = createToken({ name: "OddString", pattern: /[\u201C\u201D\u201E`][^"\u201C\u201D`\n\r]*["\u201C\u201D`]/, categories: [StringLiteral], label: "a string" });
export const OddStar = createToken({ name: "OddStar", pattern: /[\u00D7\u00B7\u22C5\u2217]/, categories: [Star], label: "'*'" });
export const OddMinus = createToken({ name: "OddMinus", pattern: /[\u2212\u2013\u2014]/, categories: [Minus], label: "'-'" });
export const OddSlash = createToken({ name: "OddSlash", pattern: /\u00F7/, categories: [Slash], label: "'/'" });
export const OddLessEq = createToken({ name: "OddLessEq", pattern: /[\u2264\u2A7D]/, categories: [LessEq], label: "'<='" });
export const OddGreaterEq = createToken({ name: "OddGreaterEq", pattern: /[\u2265\u2A7E]/, categories: [GreaterEq], label: "'>='" });
export const OddNotEq = createToken({ name: "OddNotEq", pattern: /\u2260/, categories: [NotEq], label: "'!='" });
export const OddPrime = createToken({ name: "OddPrime", pattern: /[\u2032\u2019]/, categories: [Prime], label: "a prime (')" });
/** Non-breaking and other Unicode spaces: invisible, so they get their own message. */
export const OddSpace = createToken({ name: "OddSpace", pattern: /[\u00A0\u2000-\u200B\u202F\u205F\u3000\uFEFF]+/, group: "oddspace" });

/** The ASCII text each look-alike token stands for (for the RNN-E001 hint). */
export const lookAlikes = new Map<TokenType, string>([
  [OddStar, "*"], [OddMinus, "-"], [OddSlash, "/"], [OddLessEq, "<="], [OddGreaterEq, ">="], [OddNotEq, "!="], [OddPrime, "'"],
]);

// `In` last: it is a prefix of `init` and `input`, which must be tried first.
export const hardKeywords = [Model, Data, Dims, Params, Latent, Observe, Input, Train, Eval, Sweep, Fn, Let, Const, Require, For, From, Init, True, False, In];
export const softKeywords = [Every, Generate, Keep, Best, By, Unit];

// Order matters: longer operators before their prefixes, keywords before Identifier.
export const allTokens: TokenType[] = [
  WhiteSpace,
  OddSpace,
  Comment,
  NumberLiteral,
  StringLiteral,
  OddString,
  NonAsciiName,
  ...hardKeywords,
  ...softKeywords,
  Identifier,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket,
  Comma, Semicolon, Colon, Dot, Prime,
  EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Equals,
  Power, Plus, Minus, Star, Slash, Percent, At,
  OddStar, OddMinus, OddSlash, OddLessEq, OddGreaterEq, OddNotEq, OddPrime,
];

export const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

/** Words that cannot be used as names (for diagnostics and the editor grammar). */
export const reservedWords: string[] = hardKeywords.map((t) => String(t.PATTERN).slice(1, -1));
