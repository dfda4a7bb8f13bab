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

// `In` last: it is a prefix of `init` and `input`, which must be tried first.
export const hardKeywords = [Model, Data, Dims, Params, Latent, Observe, Input, Train, Eval, Fn, Let, Const, Require, For, From, Init, True, False, In];
export const softKeywords = [Every, Generate, Keep, Best, By, Unit];

// Order matters: longer operators before their prefixes, keywords before Identifier.
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  NumberLiteral,
  StringLiteral,
  ...hardKeywords,
  ...softKeywords,
  Identifier,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket,
  Comma, Semicolon, Colon, Dot, Prime,
  EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Equals,
  Power, Plus, Minus, Star, Slash, Percent, At,
];

export const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

/** Words that cannot be used as names (for diagnostics and the editor grammar). */
export const reservedWords: string[] = hardKeywords.map((t) => String(t.PATTERN).slice(1, -1));
