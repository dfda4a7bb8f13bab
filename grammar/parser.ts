// The concrete grammar of .rnn files (Chevrotain CstParser with error recovery).
// Whitespace and newlines are insignificant: every statement starts with a name or a keyword,
// so statements need no terminator (`;` and `,` are accepted as optional separators).
import { CstParser, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType, tokenMatcher } from "./chevrotain.js";
import * as T from "./tokens.js";

function label(t: TokenType): string {
  return t.LABEL ?? t.name;
}

function firstTokens(paths: TokenType[][][]): string {
  const seen = new Set<string>();
  for (const alt of paths) for (const path of alt) if (path[0]) seen.add(label(path[0]));
  const all = [...seen];
  if (all.length === 0) return "";
  if (all.length === 1) return all[0]!;
  return all.slice(0, -1).join(", ") + " or " + all[all.length - 1];
}

/** Messages are only the "expected ..." part; grammar/index.ts builds the full diagnostic. */
const expectedOnly: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => label(expected),
  buildNotAllInputParsedMessage: () => "",
  buildNoViableAltMessage: ({ expectedPathsPerAlt }) => firstTokens(expectedPathsPerAlt),
  buildEarlyExitMessage: ({ expectedIterationPaths }) => firstTokens([expectedIterationPaths]),
};

/** Errors recovered from inside one repetition before the parser gives up on it (see below). */
export const MAX_NESTED_RECOVERIES = 100;

export class RnnParser extends CstParser {
  constructor(validate = process.env["RNNC_VALIDATE_GRAMMAR"] === "1") {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      nodeLocationTracking: "full",
      errorMessageProvider: expectedOnly,
      // Grammar validations run in the test suite (grammar.test.ts); skipping them at startup
      // keeps `rnnc check` fast.
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
    // Chevrotain re-enters a repetition recursively after each error it recovers from inside it, so
    // a few thousand errors in one block (a damaged file) would exhaust the stack. Past a limit it
    // stops recovering there: the rest of the block is one error, and parsing resumes at the next
    // top-level declaration (grammar/index.ts).
    const self = this as unknown as { attemptInRepetitionRecovery: (...args: unknown[]) => void };
    const recover = self.attemptInRepetitionRecovery;
    let depth = 0;
    self.attemptInRepetitionRecovery = function (this: unknown, ...args: unknown[]): void {
      if (depth >= MAX_NESTED_RECOVERIES) return;
      depth++;
      try {
        recover.apply(this, args);
      } finally {
        depth--;
      }
    };
  }

  public file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.topItem));
  });

  private topItem = this.RULE("topItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.dataDecl) },
      { ALT: () => this.SUBRULE(this.dimsBlock) },
      { ALT: () => this.SUBRULE(this.paramsBlock) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.latentBlock) },
      { ALT: () => this.SUBRULE(this.observeDecl) },
      { ALT: () => this.SUBRULE(this.trainBlock) },
      { ALT: () => this.SUBRULE(this.evalBlock) },
      { ALT: () => this.SUBRULE(this.sweepBlock) },
      { ALT: () => this.CONSUME(T.Semicolon) },
    ]);
  });

  private modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.CONSUME(T.StringLiteral));
  });

  private dataDecl = this.RULE("dataDecl", () => {
    this.CONSUME(T.Data);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private dimsBlock = this.RULE("dimsBlock", () => {
    this.CONSUME(T.Dims);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.requireClause) },
        { ALT: () => this.SUBRULE(this.dimDecl) },
        { ALT: () => this.CONSUME(T.Semicolon) },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  private dimDecl = this.RULE("dimDecl", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private requireClause = this.RULE("requireClause", () => {
    this.CONSUME(T.Require);
    this.SUBRULE(this.expression);
  });

  private paramsBlock = this.RULE("paramsBlock", () => {
    this.CONSUME(T.Params);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.paramDecl) }, { ALT: () => this.CONSUME(T.Semicolon) }]);
    });
    this.CONSUME(T.RBrace);
  });

  // `Wf, Wi : [H, I + H] dale(excitatory = 0.8) no_autapses init = glorot`
  private paramDecl = this.RULE("paramDecl", () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier);
    });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    // A modifier is a name that does not start the next declaration (`name :` or `name ,`).
    this.MANY2({
      GATE: () => !tokenMatcher(this.LA(2), T.Colon) && !tokenMatcher(this.LA(2), T.Comma),
      DEF: () => this.SUBRULE(this.modifier),
    });
    this.OPTION(() => {
      this.CONSUME(T.Init);
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  private modifier = this.RULE("modifier", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.OPTION2(() => this.SUBRULE(this.argList));
      this.CONSUME(T.RParen);
    });
  });

  // `[M, M]`, `diag[M]`, `[]`
  private typeExpr = this.RULE("typeExpr", () => {
    this.OPTION(() => this.CONSUME(T.Identifier));
    this.CONSUME(T.LBracket);
    this.OPTION2(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expression);
      });
    });
    this.CONSUME(T.RBracket);
  });

  private constDecl = this.RULE("constDecl", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Const) }, { ALT: () => this.CONSUME(T.Let) }]);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private fnDecl = this.RULE("fnDecl", () => {
    this.CONSUME(T.Fn);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.fnParam);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.fnParam);
      });
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private fnParam = this.RULE("fnParam", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
  });

  private inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.CONSUME(T.From);
    this.SUBRULE(this.expression);
  });

  private latentBlock = this.RULE("latentBlock", () => {
    this.CONSUME(T.Latent);
    this.SUBRULE(this.stateDecl);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.stateDecl);
    });
    this.CONSUME(T.LBrace);
    this.MANY2(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.equation) }, { ALT: () => this.CONSUME(T.Semicolon) }]);
    });
    this.CONSUME(T.RBrace);
  });

  private stateDecl = this.RULE("stateDecl", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  // `phi = ...`, `z' = ...`, `let v = ...`, `d[k] = ... for k in K`
  private equation = this.RULE("equation", () => {
    this.OPTION(() => this.CONSUME(T.Let));
    this.CONSUME(T.Identifier);
    this.OPTION2(() => this.CONSUME(T.Prime));
    this.OPTION3(() => {
      this.CONSUME(T.LBracket);
      this.CONSUME2(T.Identifier);
      this.CONSUME(T.RBracket);
    });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
    this.OPTION4(() => {
      this.CONSUME(T.For);
      this.CONSUME3(T.Identifier);
      this.CONSUME(T.In);
      this.CONSUME4(T.Identifier);
    });
  });

  private observeDecl = this.RULE("observeDecl", () => {
    this.CONSUME(T.Observe);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private trainBlock = this.RULE("trainBlock", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.setting) }, { ALT: () => this.CONSUME(T.Semicolon) }]);
    });
    this.CONSUME(T.RBrace);
  });

  private setting = this.RULE("setting", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  // `eval every 25 epochs { generate 100000 steps from lorenz.test; measures = [...]; keep best by dstsp }`
  private evalBlock = this.RULE("evalBlock", () => {
    this.CONSUME(T.Eval);
    this.OPTION(() => {
      this.CONSUME(T.Every);
      this.SUBRULE(this.expression);
    });
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.generateStmt) },
        { ALT: () => this.SUBRULE(this.keepStmt) },
        { ALT: () => this.SUBRULE(this.setting) },
        { ALT: () => this.CONSUME(T.Semicolon) },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  // `sweep { optimizer.lr = [1e-3, 5e-4]; seq_len = [100, 200]; runs = 3 }`
  private sweepBlock = this.RULE("sweepBlock", () => {
    this.CONSUME(T.Sweep);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.sweepEntry) }, { ALT: () => this.CONSUME(T.Semicolon) }]);
    });
    this.CONSUME(T.RBrace);
  });

  // A key as `--set` writes it: `seq_len`, `optimizer.lr`, `eval.every`.
  private sweepEntry = this.RULE("sweepEntry", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.Eval) }]);
    this.OPTION(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Identifier);
    });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  private generateStmt = this.RULE("generateStmt", () => {
    this.CONSUME(T.Generate);
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(T.From);
      this.SUBRULE2(this.expression);
    });
  });

  private keepStmt = this.RULE("keepStmt", () => {
    this.CONSUME(T.Keep);
    this.CONSUME(T.Best);
    this.CONSUME(T.By);
    this.CONSUME(T.Identifier);
  });

  // ---- expressions, lowest precedence first ----
  public expression = this.RULE("expression", () => {
    this.SUBRULE(this.additive);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.Greater) },
      ]);
      this.SUBRULE2(this.additive);
    });
  });

  private additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.multiplicative);
    });
  });

  private multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
        { ALT: () => this.CONSUME(T.At) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  private unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.power) },
    ]);
  });

  // Right-associative and tighter than unary minus on its left: -x^2 == -(x^2).
  private power = this.RULE("power", () => {
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.CONSUME(T.Power);
      this.SUBRULE(this.unary);
    });
  });

  private postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.callSuffix) },
        { ALT: () => this.SUBRULE(this.indexSuffix) },
        { ALT: () => this.SUBRULE(this.memberSuffix) },
        { ALT: () => this.CONSUME(T.Prime) },
      ]);
    });
  });

  private callSuffix = this.RULE("callSuffix", () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.argList));
    this.CONSUME(T.RParen);
  });

  private argList = this.RULE("argList", () => {
    this.SUBRULE(this.argument);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.argument);
    });
  });

  // `x`, `lr = 1e-3`, `b in B: expr` (a comprehension binder, used by sum/mean/max/min)
  private argument = this.RULE("argument", () => {
    this.OR([
      {
        GATE: () => tokenMatcher(this.LA(2), T.Equals),
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.CONSUME(T.Equals);
          this.SUBRULE(this.expression);
        },
      },
      {
        GATE: () => tokenMatcher(this.LA(2), T.In),
        ALT: () => {
          this.CONSUME2(T.Identifier);
          this.CONSUME(T.In);
          this.CONSUME3(T.Identifier);
          this.CONSUME(T.Colon);
          this.SUBRULE2(this.expression);
        },
      },
      { ALT: () => this.SUBRULE3(this.expression) },
    ]);
  });

  private indexSuffix = this.RULE("indexSuffix", () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.indexItem);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.indexItem);
    });
    this.CONSUME(T.RBracket);
  });

  // `i`, `:`, `a:`, `:b`, `a:b`
  private indexItem = this.RULE("indexItem", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Colon);
          this.OPTION(() => this.SUBRULE(this.expression));
        },
      },
      {
        ALT: () => {
          this.SUBRULE2(this.expression);
          this.OPTION2(() => {
            this.CONSUME2(T.Colon);
            this.OPTION3(() => this.SUBRULE3(this.expression));
          });
        },
      },
    ]);
  });

  private memberSuffix = this.RULE("memberSuffix", () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Identifier);
  });

  private primary = this.RULE("primary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.NumberLiteral);
          // `25 epochs`; a unit followed by `=` is the next setting's name, not a unit.
          this.OPTION({
            GATE: () => !tokenMatcher(this.LA(2), T.Equals),
            DEF: () => this.CONSUME(T.Unit),
          });
        },
      },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.OPTION2(() => {
            this.SUBRULE2(this.expression);
            this.MANY(() => {
              this.CONSUME(T.Comma);
              this.SUBRULE3(this.expression);
            });
          });
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });
}

/** One shared parser instance; Chevrotain resets its state on every `input` assignment. */
export const parser = new RnnParser();

export interface ParseOutput {
  cst: CstNode | undefined;
  tokens: IToken[];
  comments: IToken[];
}

export const productions = parser.getGAstProductions();
