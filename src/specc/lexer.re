/*
 * lexer.re — the spec language's tokens (re2c input).
 *
 * src/specc/lexer.c is generated from this file by
 *   re2c -W --no-generation-date --no-version -o src/specc/lexer.c src/specc/lexer.re
 * and committed, so the build works where re2c is not installed.
 * Newlines are tokens: a field declaration ends at the end of its line.
 */
#include <stdlib.h>
#include <string.h>

#include "specc.h"

void sc_lex_init(sc_lexer *lx, const sc_src *src)
{
    lx->src = src;
    lx->cur = src->text;
    lx->lim = src->text + src->len;
    lx->line_start = src->text;
    lx->line = 1;
}

const char *sc_tok_name(int kind)
{
    switch (kind) {
    case T_EOF: return "end of file";
    case T_NL: return "end of line";
    case T_NAME: return "a name";
    case T_STRING: return "a string";
    case T_INT: return "a number";
    case T_PATH: return "a path";
    case T_LBRACE: return "'{'";
    case T_RBRACE: return "'}'";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    case T_COMMA: return "','";
    case T_DOT: return "'.'";
    case T_DOTDOT: return "'..'";
    case T_ARROW: return "'->'";
    default: return "an invalid character";
    }
}

static sc_pos pos_at(const sc_lexer *lx, const char *p)
{
    sc_pos pos = { lx->src, lx->line, (int)(p - lx->line_start) + 1 };
    return pos;
}

/* Decodes a string literal's body: \" \\ \n \t; anything else is an error. */
static int unescape(sc_lexer *lx, const char *s, const char *e, sc_token *t)
{
    char *out = sc_alloc((size_t)(e - s) + 1), *o = out;
    for (const char *p = s; p < e; p++) {
        if (*p != '\\') { *o++ = *p; continue; }
        p++;
        switch (*p) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        default:
            sc_error(pos_at(lx, p - 1), "unknown escape '\\%c' in string", *p);
            return -1;
        }
    }
    t->p = out;
    t->n = (size_t)(o - out);
    return 0;
}

/*!re2c
    re2c:define:YYCTYPE = "unsigned char";
    re2c:define:YYCURSOR = cur;
    re2c:define:YYMARKER = mar;
    re2c:define:YYLIMIT = "((const unsigned char *)lx->lim)";
    re2c:yyfill:enable = 0;
    re2c:eof = 0;
    re2c:flags:utf-8 = 0;

    name   = [A-Za-z_][A-Za-z0-9_]*;
    int    = [0-9]+;
    path   = "/" [A-Za-z0-9_:.\-/]*;
    strch  = [^"\\\n\x00] | "\\" [^\n\x00];
*/

sc_token sc_lex_next(sc_lexer *lx)
{
    const unsigned char *cur, *mar, *tok;
    sc_token t;
    memset(&t, 0, sizeof t);
    cur = (const unsigned char *)lx->cur;
    (void)mar;
loop:
    tok = cur;
    t.pos = pos_at(lx, (const char *)tok);
#define TOK(k) do { t.kind = (k); t.p = (const char *)tok; \
                    t.n = (size_t)(cur - tok); goto done; } while (0)
    /*!re2c
        $                     { t.kind = T_EOF; goto done; }
        [ \t\r]+              { goto loop; }
        "#" [^\n\x00]*        { goto loop; }
        "\n"                  { lx->line++; lx->line_start = (const char *)cur;
                                t.kind = T_NL; goto done; }
        name                  { TOK(T_NAME); }
        int                   { int64_t v = 0;
                                for (const unsigned char *q = tok; q < cur; q++) {
                                    if (v > (INT64_MAX - (*q - '0')) / 10) {
                                        sc_error(t.pos, "number too large");
                                        t.kind = T_ERROR; goto done;
                                    }
                                    v = v * 10 + (*q - '0');
                                }
                                t.ival = v; TOK(T_INT); }
        path                  { TOK(T_PATH); }
        ["] strch* ["]        { t.kind = T_STRING;
                                if (unescape(lx, (const char *)tok + 1,
                                             (const char *)cur - 1, &t) < 0)
                                    t.kind = T_ERROR;
                                goto done; }
        ["] strch*            { sc_error(t.pos, "unterminated string");
                                t.kind = T_ERROR; goto done; }
        "{"                   { TOK(T_LBRACE); }
        "}"                   { TOK(T_RBRACE); }
        "("                   { TOK(T_LPAREN); }
        ")"                   { TOK(T_RPAREN); }
        ","                   { TOK(T_COMMA); }
        ".."                  { TOK(T_DOTDOT); }
        "."                   { TOK(T_DOT); }
        "->"                  { TOK(T_ARROW); }
        *                     { sc_error(t.pos, "unexpected character '%c'",
                                         (*tok >= 0x20 && *tok < 0x7f) ? *tok : '?');
                                t.kind = T_ERROR; goto done; }
    */
done:
#undef TOK
    lx->cur = (const char *)cur;
    return t;
}
