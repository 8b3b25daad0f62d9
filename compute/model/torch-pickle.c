/* torch-pickle.c — the PyTorch .bin reader: a safe unpickler for state
 * dicts and the two containers torch.save writes (see torch-pickle.h).
 *
 * The unpickler is a stack machine over a closed set of opcodes.  Values
 * are plain data (none, bools, integers, floats, strings, tuples, lists,
 * dicts) plus three kinds that stand for what torch's own loader would
 * build: a global from the allow-list, a storage (from a persistent id) and
 * a tensor (from a "call" of _rebuild_tensor_v2).  REDUCE with an allowed
 * global is interpreted here; with anything else the pickle was already
 * refused at the GLOBAL opcode, so no name from the file is ever looked up
 * and no code runs.  All values live in one arena freed at the end; nothing
 * recurses, so deep nesting cannot overflow the C stack.  Sizes of the
 * stack and memo are bounded by the input's length.
 *
 * Not done: protocol 0/1 text opcodes, LONG4, bytes objects, sets,
 * extension registry opcodes, tensor subclasses, quantised or sparse
 * tensors, storage views of the legacy format, big-endian files.
 */
#include "torch-pickle.h"

#include "config-json.h"
#include "zip-read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef enum pv_kind {
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_FLOAT,
    PV_STR,
    PV_TUPLE,
    PV_LIST,
    PV_DICT,
    PV_GLOBAL,
    PV_STORAGE,
    PV_TENSOR
} pv_kind;

enum { G_ORDERED_DICT, G_REBUILD_TENSOR, G_REBUILD_PARAM, G_STORAGE };

typedef struct pv pv;
struct pv {
    pv_kind kind;
    int64_t i;                    /* BOOL, INT (when not big); GLOBAL: G_* */
    int big;                      /* INT wider than 64 bits: s, len hold its little-endian bytes */
    double f;
    const char *s;                /* STR: UTF-8, not NUL-terminated, in the input */
    size_t len;
    pv **items;                   /* TUPLE, LIST: n; DICT: 2n (key, value, ...) */
    size_t n, cap;
    dfx__dtype dtype;             /* GLOBAL G_STORAGE, STORAGE, TENSOR */
    int64_t numel;                /* STORAGE: elements; TENSOR: elements */
    const unsigned char *data;    /* STORAGE: resolved after unpickling */
    int resolved;
    pv *storage;                  /* TENSOR */
    int64_t offset;               /* TENSOR: in elements */
    int ndim;
    int64_t shape[DFX__ST_MAX_DIMS];
};

typedef struct um {
    dfx_ctx *ctx;
    char label[600];              /* "FILE: archive/data.pkl" */
    const unsigned char *p;
    size_t size, at, op_at;
    int legacy;                   /* persistent ids have a sixth field (view metadata) */
    pv **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nm, mcap;
    pv **memo;
    size_t memo_len;
    pv **all;                     /* the arena */
    size_t nall, acap;
    pv **storages;
    size_t nst, stcap;
} um;

static const char *const kind_names[] = {"None", "a bool", "an int", "a float", "a string", "a tuple",
                                         "a list", "a dict", "a global", "a storage", "a tensor"};

static const struct {
    const char *module, *name;
    int kind;
    dfx__dtype dtype;
} allowed[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT, DFX__DTYPE_F32},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR, DFX__DTYPE_F32},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAM, DFX__DTYPE_F32},
    {"torch", "FloatStorage", G_STORAGE, DFX__DTYPE_F32},
    {"torch", "HalfStorage", G_STORAGE, DFX__DTYPE_F16},
    {"torch", "BFloat16Storage", G_STORAGE, DFX__DTYPE_BF16},
    {"torch", "DoubleStorage", G_STORAGE, DFX__DTYPE_F64},
    {"torch", "LongStorage", G_STORAGE, DFX__DTYPE_I64},
    {"torch", "IntStorage", G_STORAGE, DFX__DTYPE_I32},
    {"torch", "ShortStorage", G_STORAGE, DFX__DTYPE_I16},
    {"torch", "CharStorage", G_STORAGE, DFX__DTYPE_I8},
    {"torch", "ByteStorage", G_STORAGE, DFX__DTYPE_U8},
    {"torch", "BoolStorage", G_STORAGE, DFX__DTYPE_BOOL},
};

/* The legacy format's magic number 0x1950a86a20f9469cfc6c, little-endian. */
static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
#define LEGACY_PROTOCOL 1001

static dfx_status bad (um *u, dfx_status st, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static dfx_status
bad (um *u, dfx_status st, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    return dfx__error (u->ctx, st, "%s, byte %zu: %s", u->label, u->op_at, msg);
}

static dfx_status
oom (um *u)
{
    return dfx__error (u->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", u->label);
}

/* Grows *arr (element size esz, capacity *cap) to hold need elements. */
static int
grow (void **arr, size_t *cap, size_t need, size_t esz)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *n = realloc (*arr, c * esz);
    if (!n)
        return -1;
    *arr = n;
    *cap = c;
    return 0;
}

static pv *
pv_new (um *u, pv_kind kind)
{
    if (grow ((void **) &u->all, &u->acap, u->nall + 1, sizeof *u->all) != 0)
        return NULL;
    pv *v = dfx__calloc (1, sizeof *v);
    if (v) {
        v->kind = kind;
        u->all[u->nall++] = v;
    }
    return v;
}

static int
pv_append (pv *c, pv *item)
{
    if (grow ((void **) &c->items, &c->cap, c->n + 1, sizeof *c->items) != 0)
        return -1;
    c->items[c->n++] = item;
    return 0;
}

static void
um_free (um *u)
{
    for (size_t i = 0; i < u->nall; i++) {
        free (u->all[i]->items);
        dfx__free (u->all[i]);
    }
    free (u->all);
    free (u->stack);
    free (u->marks);
    free (u->memo);
    free (u->storages);
}

static dfx_status
push (um *u, pv *v)
{
    if (!v || grow ((void **) &u->stack, &u->scap, u->sp + 1, sizeof *u->stack) != 0)
        return oom (u);
    u->stack[u->sp++] = v;
    return DFX_OK;
}

/* The floor of the stack: values below the last mark are not for popping. */
static size_t
floor_sp (const um *u)
{
    return u->nm ? u->marks[u->nm - 1] : 0;
}

static dfx_status
pop (um *u, pv **out)
{
    if (u->sp <= floor_sp (u))
        return bad (u, DFX_ERR_FORMAT, "the pickle's stack is empty where a value is needed");
    *out = u->stack[--u->sp];
    return DFX_OK;
}

static dfx_status
top (um *u, pv **out)
{
    if (u->sp <= floor_sp (u))
        return bad (u, DFX_ERR_FORMAT, "the pickle's stack is empty where a value is needed");
    *out = u->stack[u->sp - 1];
    return DFX_OK;
}

/* Pops the values above the last mark (in order) into a new container. */
static dfx_status
pop_mark (um *u, pv_kind kind, pv **out)
{
    if (u->nm == 0)
        return bad (u, DFX_ERR_FORMAT, "no MARK before an opcode that needs one");
    size_t m = u->marks[--u->nm];
    pv *c = pv_new (u, kind);
    if (!c)
        return oom (u);
    for (size_t i = m; i < u->sp; i++)
        if (pv_append (c, u->stack[i]) != 0)
            return oom (u);
    u->sp = m;
    *out = c;
    return DFX_OK;
}

static int
need (const um *u, size_t n)
{
    return n <= u->size - u->at;
}

static uint64_t
rd_le (const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static dfx_status
read_len (um *u, int width, size_t *len)
{
    if (!need (u, (size_t) width))
        return bad (u, DFX_ERR_FORMAT, "the pickle ends inside an opcode");
    uint64_t v = rd_le (u->p + u->at, width);
    u->at += (size_t) width;
    if (v > u->size - u->at)
        return bad (u, DFX_ERR_FORMAT, "a string of %llu bytes runs past the end of the pickle",
                    (unsigned long long) v);
    *len = (size_t) v;
    return DFX_OK;
}

/* "module.name" of a global for messages (printable, shortened). */
static const char *
global_text (char *buf, size_t cap, const char *mod, size_t ml, const char *name, size_t nl)
{
    char tmp[300];
    snprintf (tmp, sizeof tmp, "%.*s.%.*s", (int) (ml > 120 ? 120 : ml), mod, (int) (nl > 120 ? 120 : nl), name);
    return dfx__printable (buf, cap, tmp);
}

static dfx_status
push_global (um *u, const char *mod, size_t ml, const char *name, size_t nl)
{
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
        if (strlen (allowed[k].module) == ml && memcmp (allowed[k].module, mod, ml) == 0 &&
            strlen (allowed[k].name) == nl && memcmp (allowed[k].name, name, nl) == 0) {
            pv *g = pv_new (u, PV_GLOBAL);
            if (!g)
                return oom (u);
            g->i = allowed[k].kind;
            g->dtype = allowed[k].dtype;
            g->s = allowed[k].name;
            return push (u, g);
        }
    char t[200];
    return bad (u, DFX_ERR_UNSUPPORTED,
                "the pickle refers to %s, which a state dict of tensors does not need: refused (nothing was run; "
                "dfx reads only plain state dicts)",
                global_text (t, sizeof t, mod, ml, name, nl));
}

static int
is_str (const pv *v, const char *s)
{
    return v->kind == PV_STR && v->len == strlen (s) && memcmp (v->s, s, v->len) == 0;
}

static int
int_value (const pv *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (v->kind == PV_BOOL || (v->kind == PV_INT && !v->big)) {
        if (v->i < lo || v->i > hi)
            return -1;
        *out = v->i;
        return 0;
    }
    return -1;
}

/* A persistent id ('storage', type, key, location, numel[, view]) → a storage. */
static dfx_status
persistent_load (um *u, pv *pid, pv **out)
{
    size_t want = u->legacy ? 6 : 5;
    if (pid->kind != PV_TUPLE || pid->n != want || !is_str (pid->items[0], "storage"))
        return bad (u, DFX_ERR_UNSUPPORTED, "a persistent id that is not a storage reference "
                    "('storage', type, key, location, size)");
    pv *type = pid->items[1], *key = pid->items[2], *loc = pid->items[3];
    int64_t numel;
    if (type->kind != PV_GLOBAL || type->i != G_STORAGE)
        return bad (u, DFX_ERR_UNSUPPORTED, "a storage whose type is %s, not a torch storage type",
                    kind_names[type->kind]);
    if (key->kind != PV_STR || key->len == 0 || key->len > 64 || memchr (key->s, '/', key->len) ||
        memchr (key->s, '\0', key->len) || loc->kind != PV_STR)
        return bad (u, DFX_ERR_FORMAT, "a storage reference with an invalid key or location");
    if (int_value (pid->items[4], 0, INT64_MAX / 8, &numel) != 0)
        return bad (u, DFX_ERR_FORMAT, "a storage reference whose size is not a whole number");
    if (u->legacy && pid->items[5]->kind != PV_NONE)
        return bad (u, DFX_ERR_UNSUPPORTED, "a storage view (legacy format); re-save the state dict with torch.save");
    pv *s = pv_new (u, PV_STORAGE);
    if (!s || grow ((void **) &u->storages, &u->stcap, u->nst + 1, sizeof *u->storages) != 0)
        return oom (u);
    s->dtype = type->dtype;
    s->s = key->s;
    s->len = key->len;
    s->numel = numel;
    u->storages[u->nst++] = s;
    *out = s;
    return DFX_OK;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static dfx_status
rebuild_tensor (um *u, pv *args, pv **out)
{
    if (args->n != 6 && args->n != 7)
        return bad (u, DFX_ERR_UNSUPPORTED, "_rebuild_tensor_v2 with %zu arguments (6 or 7 expected)", args->n);
    pv *storage = args->items[0], *size = args->items[2], *stride = args->items[3];
    int64_t offset;
    if (storage->kind != PV_STORAGE)
        return bad (u, DFX_ERR_UNSUPPORTED, "_rebuild_tensor_v2 of %s, not of a storage", kind_names[storage->kind]);
    if (int_value (args->items[1], 0, INT64_MAX / 8, &offset) != 0)
        return bad (u, DFX_ERR_FORMAT, "a tensor whose storage offset is not a whole number >= 0");
    if (size->kind != PV_TUPLE || stride->kind != PV_TUPLE || size->n != stride->n)
        return bad (u, DFX_ERR_FORMAT, "a tensor whose size and stride are not tuples of one length");
    if (size->n > DFX__ST_MAX_DIMS)
        return bad (u, DFX_ERR_UNSUPPORTED, "a tensor of %zu dimensions (at most %d)", size->n, DFX__ST_MAX_DIMS);
    if (args->items[5]->kind != PV_DICT || args->items[5]->n != 0)
        return bad (u, DFX_ERR_UNSUPPORTED, "a tensor with backward hooks");
    pv *t = pv_new (u, PV_TENSOR);
    if (!t)
        return oom (u);
    t->storage = storage;
    t->dtype = storage->dtype;
    t->offset = offset;
    t->ndim = (int) size->n;
    uint64_t numel = 1;
    int overflow = 0;
    for (size_t d = 0; d < size->n; d++) {
        if (int_value (size->items[d], 0, INT64_MAX, &t->shape[d]) != 0)
            return bad (u, DFX_ERR_FORMAT, "a tensor size that is not a whole number >= 0");
        overflow |= __builtin_mul_overflow (numel, (uint64_t) t->shape[d], &numel);
    }
    if (overflow || numel > (uint64_t) INT64_MAX / 8)
        return bad (u, DFX_ERR_FORMAT, "a tensor too large to exist");
    t->numel = (int64_t) numel;
    /* Row-major: each stride is the product of the later extents
     * (dimensions of extent 1 may have any stride). */
    uint64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t s;
        if (int_value (stride->items[d], INT64_MIN, INT64_MAX, &s) != 0)
            return bad (u, DFX_ERR_FORMAT, "a tensor stride that is not a whole number");
        if (numel > 0 && t->shape[d] != 1 && (uint64_t) s != expect)
            return bad (u, DFX_ERR_UNSUPPORTED, "a tensor that is not contiguous (dimension %d has stride %lld, "
                        "%llu expected); save a state dict of contiguous tensors (tensor.contiguous())",
                        d, (long long) s, (unsigned long long) expect);
        expect *= (uint64_t) t->shape[d];
    }
    if (numel > 0 && (offset > storage->numel || (int64_t) numel > storage->numel - offset))
        return bad (u, DFX_ERR_FORMAT, "a tensor of %llu elements at offset %lld of a storage of %lld",
                    (unsigned long long) numel, (long long) offset, (long long) storage->numel);
    *out = t;
    return DFX_OK;
}

static dfx_status
reduce (um *u)
{
    pv *args = NULL, *fn = NULL, *r = NULL;
    dfx_status st;
    if ((st = pop (u, &args)) != DFX_OK || (st = pop (u, &fn)) != DFX_OK)
        return st;
    if (fn->kind != PV_GLOBAL || args->kind != PV_TUPLE)
        return bad (u, DFX_ERR_UNSUPPORTED, "REDUCE calls %s with %s (only allowed globals may be called, with a "
                    "tuple)", kind_names[fn->kind], kind_names[args->kind]);
    switch (fn->i) {
    case G_ORDERED_DICT:
        if (args->n != 0)
            return bad (u, DFX_ERR_UNSUPPORTED, "OrderedDict called with %zu arguments", args->n);
        if (!(r = pv_new (u, PV_DICT)))
            return oom (u);
        break;
    case G_REBUILD_TENSOR:
        if ((st = rebuild_tensor (u, args, &r)) != DFX_OK)
            return st;
        break;
    case G_REBUILD_PARAM:
        if (args->n != 3 || args->items[0]->kind != PV_TENSOR)
            return bad (u, DFX_ERR_UNSUPPORTED, "_rebuild_parameter not of (tensor, requires_grad, hooks)");
        r = args->items[0];
        break;
    default:
        return bad (u, DFX_ERR_UNSUPPORTED, "a call of the storage type %s", fn->s);
    }
    return push (u, r);
}

static dfx_status
memo_put (um *u, uint64_t idx)
{
    pv *v = NULL;
    dfx_status st = top (u, &v);
    if (st != DFX_OK)
        return st;
    if (idx > u->size || idx > (1u << 26))
        return bad (u, DFX_ERR_FORMAT, "memo index %llu is out of range", (unsigned long long) idx);
    if (idx >= u->memo_len) {
        pv **m = realloc (u->memo, ((size_t) idx + 1) * sizeof *m);
        if (!m)
            return oom (u);
        memset (m + u->memo_len, 0, ((size_t) idx + 1 - u->memo_len) * sizeof *m);
        u->memo = m;
        u->memo_len = (size_t) idx + 1;
    }
    u->memo[idx] = v;
    return DFX_OK;
}

static dfx_status
memo_get (um *u, uint64_t idx)
{
    if (idx >= u->memo_len || !u->memo[idx])
        return bad (u, DFX_ERR_FORMAT, "memo entry %llu is used before it is set", (unsigned long long) idx);
    return push (u, u->memo[idx]);
}

/* Runs one pickle from u->at to its STOP; *result is its value. */
static dfx_status
run (um *u, pv **result)
{
    dfx_status st = DFX_OK;
    u->sp = u->nm = 0;
    free (u->memo);
    u->memo = NULL;
    u->memo_len = 0;
    for (;;) {
        u->op_at = u->at;
        if (!need (u, 1))
            return bad (u, DFX_ERR_FORMAT, "the pickle ends without STOP");
        unsigned op = u->p[u->at++];
        pv *v = NULL, *a = NULL, *b = NULL;
        size_t len = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if (!need (u, 1))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside PROTO");
            if (u->p[u->at] < 2 || u->p[u->at] > 5)
                return bad (u, DFX_ERR_UNSUPPORTED, "pickle protocol %u (2 to 5 are read)", u->p[u->at]);
            u->at++;
            break;
        case 0x95: /* FRAME: a length hint */
            if (!need (u, 8))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside FRAME");
            u->at += 8;
            break;
        case '.': /* STOP */
            return pop (u, result);
        case '(': /* MARK */
            if (grow ((void **) &u->marks, &u->mcap, u->nm + 1, sizeof *u->marks) != 0)
                return oom (u);
            u->marks[u->nm++] = u->sp;
            break;
        case 'N':
            st = push (u, pv_new (u, PV_NONE));
            break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
            if ((v = pv_new (u, PV_BOOL)))
                v->i = op == 0x88;
            st = push (u, v);
            break;
        case 'K': /* BININT1 */
        case 'M': /* BININT2 */
        case 'J': /* BININT */
        {
            int w = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (!need (u, (size_t) w))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside an integer");
            uint64_t x = rd_le (u->p + u->at, w);
            u->at += (size_t) w;
            if ((v = pv_new (u, PV_INT)))
                v->i = op == 'J' ? (int64_t) (int32_t) (uint32_t) x : (int64_t) x;
            st = push (u, v);
            break;
        }
        case 0x8a: /* LONG1 */
            if (!need (u, 1) || !need (u, 1 + (size_t) u->p[u->at]))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside LONG1");
            len = u->p[u->at++];
            if (!(v = pv_new (u, PV_INT)))
                return oom (u);
            v->s = (const char *) u->p + u->at;
            v->len = len;
            if (len > 8) {
                v->big = 1;
            } else if (len > 0) {
                uint64_t x = rd_le (u->p + u->at, (int) len);
                if (len < 8 && (u->p[u->at + len - 1] & 0x80))
                    x |= ~(uint64_t) 0 << (8 * len); /* sign-extend */
                v->i = (int64_t) x;
            }
            u->at += len;
            st = push (u, v);
            break;
        case 'G': /* BINFLOAT, big-endian */
        {
            if (!need (u, 8))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside a float");
            uint64_t x = 0;
            for (int i = 0; i < 8; i++)
                x = (x << 8) | u->p[u->at + (size_t) i];
            u->at += 8;
            if ((v = pv_new (u, PV_FLOAT)))
                memcpy (&v->f, &x, sizeof v->f);
            st = push (u, v);
            break;
        }
        case 'X':  /* BINUNICODE */
        case 0x8c: /* SHORT_BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
        case 'U':  /* SHORT_BINSTRING */
        case 'T':  /* BINSTRING */
            if ((st = read_len (u, op == 0x8c || op == 'U' ? 1 : op == 0x8d ? 8 : 4, &len)) != DFX_OK)
                return st;
            if (op == 'T' && len > INT32_MAX)
                return bad (u, DFX_ERR_FORMAT, "a negative string length");
            if ((v = pv_new (u, PV_STR))) {
                v->s = (const char *) u->p + u->at;
                v->len = len;
            }
            u->at += len;
            st = push (u, v);
            break;
        case ')': /* EMPTY_TUPLE */
        case ']': /* EMPTY_LIST */
        case '}': /* EMPTY_DICT */
            st = push (u, pv_new (u, op == ')' ? PV_TUPLE : op == ']' ? PV_LIST : PV_DICT));
            break;
        case 't': /* TUPLE */
            if ((st = pop_mark (u, PV_TUPLE, &v)) == DFX_OK)
                st = push (u, v);
            break;
        case 0x85: /* TUPLE1 */
        case 0x86: /* TUPLE2 */
        case 0x87: /* TUPLE3 */
        {
            size_t k = op - 0x84;
            if (u->sp < floor_sp (u) + k)
                return bad (u, DFX_ERR_FORMAT, "TUPLE%zu with fewer values on the stack", k);
            if (!(v = pv_new (u, PV_TUPLE)))
                return oom (u);
            for (size_t i = u->sp - k; i < u->sp; i++)
                if (pv_append (v, u->stack[i]) != 0)
                    return oom (u);
            u->sp -= k;
            st = push (u, v);
            break;
        }
        case 'a': /* APPEND */
            if ((st = pop (u, &a)) != DFX_OK || (st = top (u, &v)) != DFX_OK)
                return st;
            if (v->kind != PV_LIST)
                return bad (u, DFX_ERR_FORMAT, "APPEND to %s", kind_names[v->kind]);
            if (pv_append (v, a) != 0)
                return oom (u);
            break;
        case 'e': /* APPENDS */
        case 'u': /* SETITEMS */
            if ((st = pop_mark (u, PV_TUPLE, &a)) != DFX_OK || (st = top (u, &v)) != DFX_OK)
                return st;
            if (v->kind != (op == 'e' ? PV_LIST : PV_DICT) || (op == 'u' && a->n % 2))
                return bad (u, DFX_ERR_FORMAT, "%s to %s", op == 'e' ? "APPENDS" : "SETITEMS", kind_names[v->kind]);
            for (size_t i = 0; i < a->n; i++)
                if (pv_append (v, a->items[i]) != 0)
                    return oom (u);
            break;
        case 's': /* SETITEM */
            if ((st = pop (u, &b)) != DFX_OK || (st = pop (u, &a)) != DFX_OK || (st = top (u, &v)) != DFX_OK)
                return st;
            if (v->kind != PV_DICT)
                return bad (u, DFX_ERR_FORMAT, "SETITEM to %s", kind_names[v->kind]);
            if (pv_append (v, a) != 0 || pv_append (v, b) != 0)
                return oom (u);
            break;
        case 'q': /* BINPUT */
        case 'r': /* LONG_BINPUT */
        case 'h': /* BINGET */
        case 'j': /* LONG_BINGET */
        {
            int w = op == 'q' || op == 'h' ? 1 : 4;
            if (!need (u, (size_t) w))
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside a memo opcode");
            uint64_t idx = rd_le (u->p + u->at, w);
            u->at += (size_t) w;
            st = op == 'q' || op == 'r' ? memo_put (u, idx) : memo_get (u, idx);
            break;
        }
        case 0x94: /* MEMOIZE */
            st = memo_put (u, u->memo_len);
            break;
        case 'c': /* GLOBAL "module\nname\n" */
        {
            const char *mod = (const char *) u->p + u->at;
            const char *nl1 = memchr (mod, '\n', u->size - u->at);
            const char *name = nl1 ? nl1 + 1 : NULL;
            const char *nl2 = name ? memchr (name, '\n', (size_t) ((const char *) u->p + u->size - name)) : NULL;
            if (!nl2)
                return bad (u, DFX_ERR_FORMAT, "the pickle ends inside GLOBAL");
            u->at = (size_t) (nl2 + 1 - (const char *) u->p);
            st = push_global (u, mod, (size_t) (nl1 - mod), name, (size_t) (nl2 - name));
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if ((st = pop (u, &b)) != DFX_OK || (st = pop (u, &a)) != DFX_OK)
                return st;
            if (a->kind != PV_STR || b->kind != PV_STR)
                return bad (u, DFX_ERR_FORMAT, "STACK_GLOBAL of %s and %s", kind_names[a->kind], kind_names[b->kind]);
            st = push_global (u, a->s, a->len, b->s, b->len);
            break;
        case 'Q': /* BINPERSID */
            if ((st = pop (u, &a)) != DFX_OK || (st = persistent_load (u, a, &v)) != DFX_OK)
                return st;
            st = push (u, v);
            break;
        case 'R': /* REDUCE */
            st = reduce (u);
            break;
        case 'b': /* BUILD: only the __dict__ of an OrderedDict (torch's _metadata) */
            if ((st = pop (u, &a)) != DFX_OK || (st = top (u, &v)) != DFX_OK)
                return st;
            if (v->kind != PV_DICT || (a->kind != PV_DICT && a->kind != PV_NONE))
                return bad (u, DFX_ERR_UNSUPPORTED, "BUILD of %s with %s (only a state dict's attributes are read)",
                            kind_names[v->kind], kind_names[a->kind]);
            break;
        default:
            if (op >= 0x20 && op < 0x7f)
                return bad (u, DFX_ERR_UNSUPPORTED, "pickle opcode '%c' (0x%02x), which a state dict does not need: "
                            "refused (nothing was run)", (char) op, op);
            return bad (u, DFX_ERR_UNSUPPORTED, "pickle opcode 0x%02x, which a state dict does not need: refused "
                        "(nothing was run)", op);
        }
        if (st != DFX_OK)
            return st;
    }
}

/* The state dict (a dict of name → tensor) as tensors of the file; the
 * storages must be resolved. */
static dfx_status
collect (um *u, pv *root, const char *label, void *map, size_t map_size, dfx__st_file **out)
{
    dfx_status st = DFX_OK;
    dfx__st_tensor *ts = NULL;
    char *names = NULL;
    if (root->kind != PV_DICT) {
        st = dfx__error (u->ctx, DFX_ERR_UNSUPPORTED, "%s: the pickle holds %s, not a state dict (a dict of "
                         "tensors)", label, kind_names[root->kind]);
        goto fail;
    }
    size_t n = root->n / 2, chars = 1;
    for (size_t i = 0; i < n; i++)
        chars += root->items[2 * i]->len + 1;
    ts = dfx__calloc (n + 1, sizeof *ts);
    names = dfx__calloc (chars, 1);
    if (!ts || !names || n > INT32_MAX) {
        st = oom (u);
        goto fail;
    }
    char *s = names;
    for (size_t i = 0; i < n; i++) {
        pv *k = root->items[2 * i], *v = root->items[2 * i + 1];
        char nm[160];
        if (k->kind != PV_STR || k->len == 0 || memchr (k->s, '\0', k->len)) {
            st = dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: state dict entry %zu has a key that is %s, not a "
                             "non-empty name", label, i, k->kind == PV_STR ? "empty or has a NUL" : kind_names[k->kind]);
            goto fail;
        }
        memcpy (s, k->s, k->len);
        if (v->kind != PV_TENSOR) {
            st = dfx__error (u->ctx, DFX_ERR_UNSUPPORTED, "%s: state dict entry '%s' is %s, not a tensor", label,
                             dfx__printable (nm, sizeof nm, s), kind_names[v->kind]);
            goto fail;
        }
        size_t es = dfx__dtype_size (v->dtype);
        ts[i].name = s;
        ts[i].dtype = v->dtype;
        ts[i].ndim = v->ndim;
        memcpy (ts[i].shape, v->shape, sizeof ts[i].shape);
        ts[i].nbytes = (size_t) v->numel * es;
        ts[i].data = v->numel ? v->storage->data + (size_t) v->offset * es : v->storage->data;
        s += k->len + 1;
    }
    st = dfx__st_from_tensors (u->ctx, label, ts, (int) n, map, map_size, out);
    map = NULL;
fail:
    if (map)
        munmap (map, map_size);
    dfx__free (names);
    dfx__free (ts);
    return st;
}

/* The zip container: ARCHIVE/data.pkl, ARCHIVE/data/KEY, ARCHIVE/byteorder. */
static dfx_status
open_zip (um *u, const char *label, pv **root)
{
    dfx__zip *z = NULL;
    dfx_status st = dfx__zip_open (u->ctx, u->p, u->size, label, &z);
    if (st != DFX_OK)
        return st;
    const dfx__zip_entry *pkl = NULL;
    char prefix[300], name[400], nm[160];
    for (int i = 0; i < dfx__zip_count (z); i++) {
        const dfx__zip_entry *e = dfx__zip_at (z, i);
        const char *slash = strchr (e->name, '/');
        if (slash && strcmp (slash, "/data.pkl") == 0) {
            if (pkl) {
                st = dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: two data.pkl entries ('%s' and '%s')", label, pkl->name,
                                 dfx__printable (nm, sizeof nm, e->name));
                goto cleanup;
            }
            pkl = e;
        }
    }
    if (!pkl || strlen (pkl->name) - strlen ("/data.pkl") >= sizeof prefix) {
        st = dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: a zip archive without ARCHIVE/data.pkl: not a file written "
                         "by torch.save", label);
        goto cleanup;
    }
    snprintf (prefix, sizeof prefix, "%.*s", (int) (strlen (pkl->name) - strlen ("/data.pkl")), pkl->name);
    snprintf (name, sizeof name, "%s/byteorder", prefix);
    const dfx__zip_entry *bo = dfx__zip_find (z, name);
    const unsigned char *d;
    uint64_t n;
    if (bo) {
        if ((st = dfx__zip_data (u->ctx, z, bo, &d, &n)) != DFX_OK)
            goto cleanup;
        if (n != 6 || memcmp (d, "little", 6) != 0) {
            st = dfx__error (u->ctx, DFX_ERR_UNSUPPORTED, "%s: %s is not 'little' (big-endian data are not read)",
                             label, name);
            goto cleanup;
        }
    }
    if ((st = dfx__zip_data (u->ctx, z, pkl, &d, &n)) != DFX_OK)
        goto cleanup;
    /* The unpickler reads the entry in place. */
    const unsigned char *whole = u->p;
    size_t whole_size = u->size;
    snprintf (u->label, sizeof u->label, "%s: %s", label, dfx__printable (nm, sizeof nm, pkl->name));
    u->p = d;
    u->size = (size_t) n;
    u->at = 0;
    st = run (u, root);
    u->p = whole;
    u->size = whole_size;
    if (st != DFX_OK)
        goto cleanup;
    for (size_t i = 0; i < u->nst; i++) {
        pv *s = u->storages[i];
        snprintf (name, sizeof name, "%s/data/%.*s", prefix, (int) s->len, s->s);
        const dfx__zip_entry *e = dfx__zip_find (z, name);
        if (!e) {
            st = dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: the pickle refers to storage '%s', which the archive lacks",
                             label, dfx__printable (nm, sizeof nm, name));
            goto cleanup;
        }
        if ((st = dfx__zip_data (u->ctx, z, e, &d, &n)) != DFX_OK)
            goto cleanup;
        if (n != (uint64_t) s->numel * dfx__dtype_size (s->dtype)) {
            st = dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: storage '%s' holds %llu bytes, the pickle says %lld "
                             "elements of %s", label, dfx__printable (nm, sizeof nm, name), (unsigned long long) n,
                             (long long) s->numel, dfx__dtype_name (s->dtype));
            goto cleanup;
        }
        s->data = d;
        s->resolved = 1;
    }
cleanup:
    dfx__zip_close (z);
    return st;
}

/* The legacy stream: magic, protocol, system info, data, keys, storages. */
static dfx_status
open_legacy (um *u, const char *label, pv **root)
{
    dfx_status st;
    pv *v;
    snprintf (u->label, sizeof u->label, "%s (legacy torch.save format)", label);
    u->legacy = 1;
    if ((st = run (u, &v)) != DFX_OK)
        return st;
    if (v->kind != PV_INT || !v->big || v->len != sizeof legacy_magic || memcmp (v->s, legacy_magic, v->len) != 0)
        return bad (u, DFX_ERR_FORMAT, "no torch.save magic number");
    if ((st = run (u, &v)) != DFX_OK)
        return st;
    if (v->kind != PV_INT || v->big || v->i != LEGACY_PROTOCOL)
        return bad (u, DFX_ERR_UNSUPPORTED, "torch.save protocol is not %d", LEGACY_PROTOCOL);
    if ((st = run (u, &v)) != DFX_OK)
        return st;
    if (v->kind != PV_DICT)
        return bad (u, DFX_ERR_FORMAT, "the system information is %s, not a dict", kind_names[v->kind]);
    for (size_t i = 0; i + 1 < v->n; i += 2)
        if (is_str (v->items[i], "little_endian") && v->items[i + 1]->kind == PV_BOOL && !v->items[i + 1]->i)
            return bad (u, DFX_ERR_UNSUPPORTED, "the file was written big-endian");
    if ((st = run (u, root)) != DFX_OK)
        return st;
    pv *keys;
    if ((st = run (u, &keys)) != DFX_OK)
        return st;
    if (keys->kind != PV_LIST)
        return bad (u, DFX_ERR_FORMAT, "the storage key list is %s", kind_names[keys->kind]);
    for (size_t k = 0; k < keys->n; k++) {
        pv *key = keys->items[k];
        u->op_at = u->at;
        if (key->kind != PV_STR)
            return bad (u, DFX_ERR_FORMAT, "storage key %zu is %s", k, kind_names[key->kind]);
        pv *first = NULL;
        for (size_t i = 0; i < u->nst; i++)
            if (u->storages[i]->len == key->len && memcmp (u->storages[i]->s, key->s, key->len) == 0 &&
                !u->storages[i]->resolved)
                first = first ? first : u->storages[i];
        if (!first)
            return bad (u, DFX_ERR_FORMAT, "storage key %zu is not referenced by the state dict (or given twice)", k);
        if (!need (u, 8))
            return bad (u, DFX_ERR_FORMAT, "the file ends before storage %zu", k);
        uint64_t count = rd_le (u->p + u->at, 8), bytes;
        u->at += 8;
        size_t es = dfx__dtype_size (first->dtype);
        if (__builtin_mul_overflow (count, (uint64_t) es, &bytes) || !need (u, bytes))
            return bad (u, DFX_ERR_FORMAT, "storage %zu of %llu elements runs past the end of the file", k,
                        (unsigned long long) count);
        for (size_t i = 0; i < u->nst; i++) {
            pv *s = u->storages[i];
            if (s->len != key->len || memcmp (s->s, key->s, key->len) != 0)
                continue;
            if ((uint64_t) s->numel != count || s->dtype != first->dtype)
                return bad (u, DFX_ERR_FORMAT, "storage %zu holds %llu elements of %s, the pickle says %lld of %s", k,
                            (unsigned long long) count, dfx__dtype_name (first->dtype), (long long) s->numel,
                            dfx__dtype_name (s->dtype));
            s->data = u->p + u->at;
            s->resolved = 1;
        }
        u->at += (size_t) bytes;
    }
    for (size_t i = 0; i < u->nst; i++)
        if (!u->storages[i]->resolved) {
            char nm[100];
            char key[80];
            snprintf (key, sizeof key, "%.*s", (int) u->storages[i]->len, u->storages[i]->s);
            return dfx__error (u->ctx, DFX_ERR_FORMAT, "%s: storage '%s' is referenced but not in the file", label,
                               dfx__printable (nm, sizeof nm, key));
        }
    return DFX_OK;
}

int
dfx__torch_sniff (const void *data, size_t size)
{
    const unsigned char *p = data;
    /* The legacy stream is pickles back to back, the first a protocol-2 one
     * (its magic number is checked by the unpickler, not here). */
    return dfx__zip_sniff (data, size) || (size >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5);
}

static dfx_status
open_buffer (dfx_ctx *ctx, const void *data, size_t size, const char *label, void *map, dfx__st_file **out)
{
    um u = {.ctx = ctx, .p = data, .size = size};
    pv *root = NULL;
    dfx_status st;
    *out = NULL;
    snprintf (u.label, sizeof u.label, "%s", label);
    if (dfx__zip_sniff (data, size))
        st = open_zip (&u, label, &root);
    else if (dfx__torch_sniff (data, size))
        st = open_legacy (&u, label, &root);
    else
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: not a PyTorch file (neither the zip archive nor the legacy "
                         "stream that torch.save writes)", label);
    if (st == DFX_OK) {
        st = collect (&u, root, label, map, map ? size : 0, out);
        map = NULL;
    }
    if (map)
        munmap (map, size);
    um_free (&u);
    return st;
}

dfx_status
dfx__torch_open_memory (dfx_ctx *ctx, const void *data, size_t size, const char *label, dfx__st_file **out)
{
    if (!label)
        label = "<memory>";
    if (!data && size)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: NULL data of %zu bytes", label, size);
    return open_buffer (ctx, data ? data : "", size, label, NULL, out);
}

dfx_status
dfx__torch_open (dfx_ctx *ctx, const char *path, dfx__st_file **out)
{
    void *map;
    size_t size;
    *out = NULL;
    dfx_status st = dfx__map_file (ctx, path, &map, &size);
    if (st != DFX_OK)
        return st;
    return open_buffer (ctx, map, size, path, map, out);
}
