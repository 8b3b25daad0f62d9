/* gemm-lvp.comp — the CPU-device (lavapipe) variant of gemm.comp, same Push
 * block and epilogue, for views whose A or B can be read as aligned vec4s.
 *
 * lavapipe runs a subgroup's SG invocations as the lanes of one SIMD register
 * (SG = 8 with its default 256-bit vectors, 16 with LP_NATIVE_VECTOR_WIDTH=512,
 * 4 with 128).
 * A load whose address differs per lane becomes a bounds-checked scalar load
 * per lane and component, so every value should be loaded by one lane only
 * and reach the others through subgroupBroadcast (a register shuffle).  One
 * subgroup computes RM rows × 4·SG columns of C: each lane owns CN = 4 columns
 * (4 contiguous ones when B is row-major, 4 strided by SG when B is
 * column-major) and RM·4 accumulators.  A(i, k) for the RM rows is loaded
 * cooperatively, one vec4 per lane, and broadcast row by row.  No shared
 * memory, no barriers.  Workgroup x runs over row blocks so neighbouring
 * workgroups reuse the same B panel from the cache.
 *
 *   AT = 0: A row-major along k (a.col = 1): lane l loads A(i0 + l + SG·q, k..k+3).
 *   AT = 1: A column-major (a.row = 1): lane l loads A(i0 + 4t..4t+3, k + l % 4)
 *           for the RM/SG row quads t of its group of 4 lanes' part of the
 *           tile (l / 4).
 *   BT = 0: B row-major along n (b.col = 1): lane l loads B(k, j0 + 4l..4l+3).
 *   BT = 1: B column-major (b.row = 1): lane l loads B(k..k+3, j0 + l + SG·c).
 * The op wrapper (gemm.c) checks the alignment this needs: strides and
 * offsets multiples of 4, k a multiple of 4, and for BT = 0 / AT = 1 the
 * vec4 dimension (n / m) a multiple of 4. */
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint RM = 16; /* rows of C per subgroup, multiple of SG */
layout (constant_id = 2) const uint AT = 0;
layout (constant_id = 3) const uint BT = 0;
layout (constant_id = 4) const uint SG = 8;  /* the subgroup size (4, 8 or 16) */
const uint CN = 4;                           /* columns of C per lane */
const uint KB = 4;                           /* k per iteration */
const uint NA = RM / SG;                     /* A vec4s per lane per iteration */
const uint NB = BT == 0 ? KB : CN * KB / 4;  /* B vec4s per lane per iteration */

struct Mat { uint off, row, col, outer, inner; };

layout (push_constant) uniform Push {
    uint m, n, k, inner_count;
    Mat a, b, c;
    uint r_off, bias_off, bias_mode, has_res;
    float alpha, beta, out_scale;
} p;

layout (std430, binding = 0) readonly buffer A { vec4 a4[]; };
layout (std430, binding = 1) readonly buffer B { vec4 b4[]; };
layout (std430, binding = 2) buffer C { float c[]; };
layout (std430, binding = 3) readonly buffer Bias { float bias[]; };
layout (std430, binding = 4) readonly buffer Res { float res[]; };

/* A(i0 + i, k0 + kk) as broadcast from the lane that loaded it. */
float a_at (vec4 av[NA], uint i, uint kk)
{
    /* subgroupBroadcast wants a constant lane: i and kk are constants after
     * unrolling, so each case folds to one shuffle */
    uint lane_, q_, comp_;
    if (AT == 0) {
        lane_ = i % SG, q_ = i / SG, comp_ = kk;
    } else {
        /* row quad i / 4 sits in lane group (i / 4) / NA, vec4 (i / 4) % NA */
        lane_ = kk + 4 * ((i / 4) / NA), q_ = (i / 4) % NA, comp_ = i % 4;
    }
    float v = av[q_][comp_];
    switch (lane_) {
    case 0: return subgroupBroadcast (v, 0);
    case 1: return subgroupBroadcast (v, 1);
    case 2: return subgroupBroadcast (v, 2);
    case 3: return subgroupBroadcast (v, 3);
    case 4: return subgroupBroadcast (v, 4);
    case 5: return subgroupBroadcast (v, 5);
    case 6: return subgroupBroadcast (v, 6);
    case 7: return subgroupBroadcast (v, 7);
    case 8: return subgroupBroadcast (v, 8);
    case 9: return subgroupBroadcast (v, 9);
    case 10: return subgroupBroadcast (v, 10);
    case 11: return subgroupBroadcast (v, 11);
    case 12: return subgroupBroadcast (v, 12);
    case 13: return subgroupBroadcast (v, 13);
    case 14: return subgroupBroadcast (v, 14);
    default: return subgroupBroadcast (v, 15);
    }
}

uint base (Mat x, uint z)
{
    return x.off + (z / p.inner_count) * x.outer + (z % p.inner_count) * x.inner;
}

void main ()
{
    uint lane = gl_SubgroupInvocationID;
    uint i0 = gl_WorkGroupID.x * RM;
    uint j0 = (gl_WorkGroupID.y * (gl_WorkGroupSize.x / SG) + gl_SubgroupID) * SG * CN;
    uint z = gl_WorkGroupID.z;
    uint abase = base (p.a, z), bbase = base (p.b, z), cbase = base (p.c, z);

    /* vec4 indices of this lane's first A and B loads (rows / columns past
     * the end are clamped: they load valid memory and are never stored) */
    uint aidx[NA];
    [[unroll]] for (uint q = 0; q < NA; q++)
        aidx[q] = AT == 0 ? (abase + min (i0 + lane + SG * q, p.m - 1) * p.a.row) / 4
                          : (abase + min (i0 + 4 * ((lane / 4) * NA + q), p.m - 4) + (lane % 4) * p.a.col) / 4;
    uint bidx[CN];
    [[unroll]] for (uint cc = 0; cc < CN; cc++)
        bidx[cc] = BT == 0 ? (bbase + min (j0 + lane * CN, p.n - CN)) / 4
                           : (bbase + min (j0 + lane + SG * cc, p.n - 1) * p.b.col) / 4;
    uint astep = AT == 0 ? KB / 4 : KB * p.a.col / 4; /* vec4s per iteration */
    uint brow4 = p.b.row / 4;

    float acc[RM * CN];
    [[unroll]] for (uint t = 0; t < RM * CN; t++)
        acc[t] = 0.0;
    for (uint k0 = 0; k0 < p.k; k0 += KB) {
        vec4 av[NA];
        [[unroll]] for (uint q = 0; q < NA; q++)
            av[q] = a4[aidx[q]];
        [[unroll]] for (uint q = 0; q < NA; q++)
            aidx[q] += astep;
        vec4 bt[BT == 0 ? 1 : CN * KB / 4];
        if (BT != 0)
            [[unroll]] for (uint cc = 0; cc < CN; cc++)
                [[unroll]] for (uint h = 0; h < KB / 4; h++)
                    bt[cc * (KB / 4) + h] = b4[bidx[cc] + h];
        /* B(k0 + kk, column cc) for the whole iteration, then row by row
         * all KB·CN products into that row's accumulators: each of the 64
         * accumulators is loaded and stored once per iteration when LLVM
         * spills it (4× fewer stack accesses than kk-outer order) */
        float bv[KB * CN];
        [[unroll]] for (uint kk = 0; kk < KB; kk++) {
            if (BT == 0) {
                vec4 t = b4[bidx[0] + (k0 + kk) * brow4];
                bv[kk * CN] = t.x, bv[kk * CN + 1] = t.y, bv[kk * CN + 2] = t.z, bv[kk * CN + 3] = t.w;
            } else {
                [[unroll]] for (uint cc = 0; cc < CN; cc++)
                    bv[kk * CN + cc] = bt[cc * (KB / 4) + kk / 4][kk % 4];
            }
        }
        [[unroll]] for (uint i = 0; i < RM; i++) {
            float ai[KB];
            [[unroll]] for (uint kk = 0; kk < KB; kk++)
                ai[kk] = a_at (av, i, kk);
            [[unroll]] for (uint cc = 0; cc < CN; cc++)
                [[unroll]] for (uint kk = 0; kk < KB; kk++)
                    acc[i * CN + cc] = fma (ai[kk], bv[kk * CN + cc], acc[i * CN + cc]);
        }
        if (BT != 0)
            [[unroll]] for (uint cc = 0; cc < CN; cc++)
                bidx[cc] += KB / 4;
    }

    uint rbase = base (Mat (p.r_off, p.c.row, p.c.col, p.c.outer, p.c.inner), z);
    /* What does not change along a column is loaded and checked once per
     * column, not per element: the 64 unrolled elements' per-lane loads were
     * most of this kernel's compile time, which lavapipe spends on a first
     * run for every variant. */
    float bj[CN];
    bool jok[CN];
    [[unroll]] for (uint cc = 0; cc < CN; cc++) {
        uint gj = BT == 0 ? j0 + lane * CN + cc : j0 + lane + SG * cc;
        jok[cc] = gj < p.n;
        bj[cc] = p.bias_mode == 2 ? bias[p.bias_off + min (gj, p.n - 1)] : 0.0;
    }
    const bool cres = p.beta != 0.0 || p.has_res != 0;
    [[unroll]] for (uint i = 0; i < RM; i++) {
        uint gi = i0 + i;
        if (gi < p.m) {
            float bi = p.bias_mode == 1 ? bias[p.bias_off + gi] : 0.0;
            [[unroll]] for (uint cc = 0; cc < CN; cc++) {
                uint gj = BT == 0 ? j0 + lane * CN + cc : j0 + lane + SG * cc;
                if (jok[cc]) {
                    uint ci = gi * p.c.row + gj * p.c.col;
                    float v = p.alpha * acc[i * CN + cc] + (bi + bj[cc]);
                    if (cres) {
                        if (p.beta != 0.0)
                            v = fma (p.beta, c[cbase + ci], v);
                        if (p.has_res != 0)
                            v += res[rbase + ci];
                    }
                    c[cbase + ci] = p.out_scale * v;
                }
            }
        }
    }
}
