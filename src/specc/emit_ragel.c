/*
 * emit_ragel.c — the Ragel machines specc generates.
 *
 *  gen/toy_keys.rl          one machine per request object: key -> field index
 *  gen/derive_<name>.rl     one file per derivation: for a `keywords` field a
 *                           multi-keyword matcher (Aho-Corasick as a DFA) that
 *                           counts hits per label; for a `number after` field a
 *                           marker search, then a few lines of C for the digits
 *
 * ragel turns each into C (make regen; the .c files are committed).
 */
#include <stdlib.h>
#include <string.h>

#include "specc.h"

/* A Ragel string literal: keywords are printable ASCII (check.c). */
static void rl_lit(sc_out *o, const char *s)
{
    sc_printf(o, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            sc_printf(o, "\\");
        sc_printf(o, "%c", *p);
    }
    sc_printf(o, "'");
}

static void keys_for(sc_out *o, const char *tprefix, const sc_rfield *f, int n)
{
    for (int i = 0; i < n; i++)
        if (f[i].type == SC_R_OBJECT) {
            char t[256];
            snprintf(t, sizeof t, "%s_%s", tprefix, f[i].name);
            keys_for(o, t, f[i].fields, f[i].nfields);
        }
    sc_printf(o, "%%%%{\n    machine %s_key;\n    alphtype unsigned char;\n    main :=\n", tprefix);
    for (int i = 0; i < n; i++) {
        sc_printf(o, "        %s ", i ? "|" : " ");
        rl_lit(o, f[i].name);
        sc_printf(o, " @{ r = %d; }\n", i);
    }
    sc_printf(o, "        ;\n    write data noerror noentry;\n}%%%%\n\n");
    sc_printf(o, "int %s_key(const uint8_t *k, size_t n)\n{\n"
              "    const uint8_t *p = k, *pe = k + n;\n    int cs, r = -1;\n"
              "    %%%% write init;\n    %%%% write exec;\n"
              "    return cs >= %s_key_first_final ? r : -1;\n}\n\n", tprefix, tprefix);
}

static int emit_keys(const sc_spec *spec, const char *gendir)
{
    sc_out *o = sc_out_open(gendir, "toy_keys.rl");
    sc_banner(o, spec, "//");
    sc_printf(o, "// Key matchers: each maps a decoded JSON key to its field's index, or -1.\n"
              "#include \"toy_spec.h\"\n\n");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (!e->has_request)
            continue;
        char t[256];
        snprintf(t, sizeof t, "toy_%s", e->name);
        keys_for(o, t, e->req, e->nreq);
    }
    return sc_out_close(o);
}

static void derive_keywords(sc_out *o, const sc_derive *d, const sc_dfield *f)
{
    sc_printf(o, "%%%%{\n    machine toy_%s_%s;\n    alphtype unsigned char;\n", d->name, f->name);
    sc_printf(o, "    # Every keyword, case-insensitive, anywhere: the DFA of this union\n"
              "    # tracks all partial matches at once, one transition per byte.\n");
    sc_printf(o, "    main := ( any\n");
    for (int i = 0; i < f->nlabels; i++)
        for (int k = 0; k < f->labels[i].nkeywords; k++) {
            sc_printf(o, "        | ");
            rl_lit(o, f->labels[i].keywords[k]);
            sc_printf(o, "i @{ HIT(%d); }   # %s\n", i, f->labels[i].label);
        }
    sc_printf(o, "        )*;\n    write data noerror nofinal noentry;\n}%%%%\n\n");
    sc_printf(o, "static void feed_%s(toy_%s_state *s, const uint8_t *p, const uint8_t *pe)\n{\n"
              "    int cs = s->cs_%s;\n"
              "#define HIT(i) do { if (s->hits_%s[i] < UINT32_MAX) s->hits_%s[i]++; } while (0)\n"
              "    %%%% write exec;\n#undef HIT\n    s->cs_%s = cs;\n}\n\n",
              f->name, d->name, f->name, f->name, f->name, f->name);
    sc_printf(o, "static uint8_t finish_%s(const toy_%s_state *s)\n{\n"
              "    /* Most hits wins; a tie goes to the label listed first. */\n"
              "    int best = -1;\n    uint32_t most = 0;\n"
              "    for (int i = 0; i < %d; i++)\n"
              "        if (s->hits_%s[i] > most) {\n            most = s->hits_%s[i];\n            best = i;\n        }\n"
              "    return (uint8_t)(best < 0 ? %d : best);\n}\n\n",
              f->name, d->name, f->nlabels, f->name, f->name, sc_derive_default_index(f));
}

static void derive_number(sc_out *o, const sc_derive *d, const sc_dfield *f)
{
    sc_printf(o, "%%%%{\n    machine toy_%s_%s;\n    alphtype unsigned char;\n", d->name, f->name);
    sc_printf(o, "    # Find the marker; the digits after it are read by the C below.\n");
    sc_printf(o, "    main := any* ");
    rl_lit(o, f->after);
    sc_printf(o, "i @{ found = 1; fbreak; };\n    write data noerror nofinal noentry;\n}%%%%\n\n");
    sc_printf(o, "static void feed_%s(toy_%s_state *s, const uint8_t *p, const uint8_t *pe)\n{\n",
              f->name, d->name);
    sc_printf(o, "    uint8_t *phase = &s->phase_%s, *ndigits = &s->ndigits_%s;\n"
              "    uint32_t *num = &s->num_%s;\n", f->name, f->name, f->name);
    sc_printf(o, "%s",
        "    while (p < pe) {\n"
        "        switch (*phase) {\n"
        "        case 0: {   /* looking for the marker */\n");
    sc_printf(o, "            int cs = s->cs_%s, found = 0;\n", f->name);
    sc_printf(o, "%s",
        "            %% write exec;\n");
    sc_printf(o, "            s->cs_%s = cs;\n", f->name);
    sc_printf(o, "%s",
        "            if (!found)\n                return;\n"
        "            *phase = 1;\n"
        "            break;\n        }\n"
        "        case 1:     /* spaces after the marker */\n"
        "            if (*p == ' ') {\n                p++;\n"
        "            } else if (*p >= '0' && *p <= '9') {\n"
        "                *phase = 2;\n"
        "            } else {\n"
        "                /* No number after this marker: look for the next one. */\n"
        "                *phase = 0;\n");
    sc_printf(o, "                s->cs_%s = toy_%s_%s_start;\n", f->name, d->name, f->name);
    sc_printf(o, "%s",
        "            }\n            break;\n"
        "        case 2:     /* the digits */\n"
        "            if (*p < '0' || *p > '9') {\n"
        "                *phase = 3;\n                return;\n            }\n"
        "            /* Past six digits the value is out of every range anyway. */\n"
        "            if (*ndigits < 6) {\n"
        "                *num = *num * 10 + (uint32_t)(*p - '0');\n"
        "                (*ndigits)++;\n"
        "            } else {\n                *num = UINT32_MAX;\n            }\n"
        "            p++;\n            break;\n"
        "        default:    /* only the first number counts */\n            return;\n"
        "        }\n    }\n}\n\n");
    sc_printf(o, "static uint8_t finish_%s(const toy_%s_state *s)\n{\n"
              "    if (s->phase_%s < 2)\n        return %d;   /* no number */\n"
              "    uint32_t v = s->num_%s;\n",
              f->name, d->name, f->name, sc_derive_default_index(f), f->name);
    for (int i = 0; i < f->nlabels; i++)
        sc_printf(o, "    if (v >= %lldu && v <= %lldu)\n        return %d;   /* %s */\n",
                  (long long)f->labels[i].lo, (long long)f->labels[i].hi, i, f->labels[i].label);
    sc_printf(o, "    return %d;\n}\n\n", sc_derive_default_index(f));
}

static int emit_derive(const sc_spec *spec, const sc_derive *d, const char *gendir)
{
    char name[256];
    snprintf(name, sizeof name, "derive_%s.rl", d->name);
    sc_out *o = sc_out_open(gendir, name);
    sc_banner(o, spec, "//");
    sc_printf(o, "// derive %s: a streaming state machine over the decoded bytes of a\n"
              "// secret field; what it emits is one label per field (toy_spec.h).\n"
              "#include <stdio.h>\n#include <string.h>\n\n#include \"toy_spec.h\"\n\n", d->name);
    for (int i = 0; i < d->nfields; i++) {
        if (d->fields[i].kind == SC_D_KEYWORDS)
            derive_keywords(o, d, &d->fields[i]);
        else
            derive_number(o, d, &d->fields[i]);
    }
    sc_printf(o, "void toy_%s_init(void *st)\n{\n    toy_%s_state *s = st;\n    memset(s, 0, sizeof *s);\n", d->name, d->name);
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "    s->cs_%s = toy_%s_%s_start;\n", d->fields[i].name, d->name, d->fields[i].name);
    sc_printf(o, "}\n\nvoid toy_%s_feed(void *st, const uint8_t *p, size_t n)\n{\n", d->name);
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "    feed_%s(st, p, p + n);\n", d->fields[i].name);
    sc_printf(o, "}\n\nvoid toy_%s_finish(void *st, void *out)\n{\n    toy_%s_out *r = out;\n", d->name, d->name);
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "    r->%s = finish_%s(st);\n", d->fields[i].name, d->fields[i].name);
    sc_printf(o, "}\n\nsize_t toy_%s_format(const void *out, char *buf, size_t cap)\n{\n"
              "    const toy_%s_out *r = out;\n    int n = snprintf(buf, cap, \"", d->name, d->name);
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "%s%s:%%s", i ? "," : "", d->fields[i].name);
    sc_printf(o, "\"");
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, ",\n                     toy_%s_%s_labels[r->%s]", d->name, d->fields[i].name, d->fields[i].name);
    sc_printf(o, ");\n    return n < 0 ? cap : (size_t)n;\n}\n");
    return sc_out_close(o);
}

int sc_emit_ragel(const sc_spec *spec, const char *gendir)
{
    if (emit_keys(spec, gendir))
        return -1;
    for (int i = 0; i < spec->nderives; i++)
        if (emit_derive(spec, spec->derives[i], gendir))
            return -1;
    return 0;
}
