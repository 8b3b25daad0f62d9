/* conv2d-lvp.comp — the CPU-device (lavapipe) variant of conv2d.comp for
 * output rows a multiple of 4 wide: 3×3 stride 1 padding 1 with optional
 * nearest ×2 upsampling folded into the input indexing, 1×1, and 3×3 stride 2
 * padding 0 or 1 (diffusers' downsampling; padding 0 pads right and bottom).
 * Same Push block and epilogue as conv2d.comp.
 *
 * lavapipe runs a subgroup's SG invocations as the lanes of one SIMD register
 * (SG = 8 with its default 256-bit vectors, 16 with LP_NATIVE_VECTOR_WIDTH=512,
 * 4 with 128); a load whose address differs per lane costs one bounds-checked
 * scalar load per lane and component, and only constant or push-constant
 * addresses are loaded once for all lanes.  So no value is loaded twice: each
 * lane computes 4 neighbouring pixels × YR rows for the subgroup's CO output
 * channels.  Per input channel it loads one aligned vec4 (vec2 when
 * upsampling, two vec4s at stride 2) of each input row it needs and takes the
 * column left or right of it from the neighbouring lanes
 * (subgroupShuffleUp/Down, register permutes), or from one extra load when a
 * row is wider than the subgroup's 4·SG pixels (EDGE).  The weights of output
 * channel co0 + lane + SG·q are loaded by that lane and reach the others
 * through subgroupBroadcast (lanes past CO load a clamped channel they never
 * hand on).  No shared memory, no barriers.
 *
 * Requirements checked by conv2d.c: the input offset a multiple of 4 (2 when
 * upsampling), the output and residual offsets multiples of 4, at stride 2 an input twice as wide as the output, and for
 * WV = 1 (weights as vec4s) cin and the weight offset multiples of 4. */
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
#extension GL_EXT_control_flow_attributes : require
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint CO = 8;   /* output channels per subgroup: a multiple of SG, or below it */
layout (constant_id = 2) const uint KS = 3;   /* kernel size: 1 or 3 */
layout (constant_id = 3) const uint YR = 2;   /* output rows per lane */
layout (constant_id = 4) const uint UP = 0;   /* 1: nearest ×2 upsample the input first */
layout (constant_id = 5) const uint EDGE = 1; /* 1: rows may be wider than 32 pixels */
layout (constant_id = 6) const uint WV = 0;   /* 1: load the weights as vec4s */
layout (constant_id = 7) const uint ST = 1;   /* stride: 1 or 2 (3×3, no upsampling) */
layout (constant_id = 8) const uint PAD = 1;  /* top and left padding: KS / 2 at stride 1, 0 or 1 at stride 2 */
layout (constant_id = 9) const uint SG = 8;   /* the subgroup size (4, 8 or 16), = the workgroup size */
const uint CQ = (CO + SG - 1) / SG;           /* weight loads per lane and tap */
const uint CS = CO < SG ? CO : SG;            /* channels per weight load */
const uint KK = KS * KS;
const uint NR = (YR - 1) * ST + KS;          /* input rows per output row group */
const uint CI = KS == 1 && WV != 0 ? 4 : 1;   /* input channels per iteration */

layout (push_constant) uniform Push {
    uint batch, cin, h, w;      /* input as stored (before upsampling) */
    uint cout, oh, ow;
    uint ks, stride, pad_t, pad_l, up;
    uint in_off, w_off, bias_off, out_off;
    uint temb_off, temb_stride, res_off;
    uint flags;                 /* 1 bias, 2 temb, 4 residual */
    float out_scale;
} p;

layout (std430, binding = 0) readonly buffer In { float x[]; };
layout (std430, binding = 0) readonly buffer In2 { vec2 x2[]; };
layout (std430, binding = 0) readonly buffer In4 { vec4 x4[]; };
layout (std430, binding = 1) readonly buffer Wt { float wt[]; };
layout (std430, binding = 1) readonly buffer Wt4 { vec4 wt4[]; };
layout (std430, binding = 2) readonly buffer Bias { float bias[]; };
layout (std430, binding = 3) readonly buffer Temb { float temb[]; };
layout (std430, binding = 4) readonly buffer Res4 { vec4 res4[]; };
layout (std430, binding = 5) writeonly buffer Out4 { vec4 o4[]; };

/* subgroupBroadcast wants a constant lane: c is one after unrolling. */
float bcast (float v, uint c)
{
    switch (c) {
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

void main ()
{
    uint lane = gl_SubgroupInvocationID;
    /* quad g = (n, row group, x / 4), row groups of YR output rows */
    uint Q = p.ow / 4, RG = (p.oh + YR - 1) / YR, NQ = p.batch * RG * Q;
    uint g = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint co0 = gl_WorkGroupID.y * CO;
    bool valid = g < NQ;
    uint gg = min (g, NQ - 1);
    uint n = gg / (RG * Q), rq = gg % (RG * Q), oy = (rq / Q) * YR, ox = (rq % Q) * 4;
    uint he = p.h << UP;
    bool lok = ox > 0, rok = ox + 4 < p.ow;

    /* this lane's weight rows: output channels co0 + lane + SG·q */
    uint wrow[CQ];
    [[unroll]] for (uint q = 0; q < CQ; q++)
        wrow[q] = p.w_off + min (co0 + q * SG + lane, p.cout - 1) * p.cin * KK;

    float acc[YR * CO * 4]; /* [yy][co][px] */
    [[unroll]] for (uint t = 0; t < YR * CO * 4; t++)
        acc[t] = 0.0;

    for (uint ci0 = 0; ci0 < p.cin; ci0 += CI) {
        float wv[CQ * KK * CI];
        [[unroll]] for (uint q = 0; q < CQ; q++) {
            if (WV != 0 && KS == 1) {
                vec4 f = wt4[(wrow[q] + ci0) / 4];
                wv[q * 4] = f.x, wv[q * 4 + 1] = f.y, wv[q * 4 + 2] = f.z, wv[q * 4 + 3] = f.w;
            } else if (WV != 0) {
                /* the 9 weights of (co, ci) start at an offset ≡ ci (mod 4):
                 * load the 12 around them and select */
                uint sh = ci0 & 3u, b = (wrow[q] + ci0 * KK) / 4;
                vec4 f0 = wt4[b], f1 = wt4[b + 1], f2 = wt4[b + 2];
                float f[12] = float[12] (f0.x, f0.y, f0.z, f0.w, f1.x, f1.y, f1.z, f1.w, f2.x, f2.y, f2.z, f2.w);
                [[unroll]] for (uint t = 0; t < KK; t++)
                    wv[q * KK + t] = sh == 0u ? f[t] : sh == 1u ? f[t + 1] : sh == 2u ? f[t + 2] : f[t + 3];
            } else {
                [[unroll]] for (uint t = 0; t < KK; t++)
                    wv[q * KK + t] = wt[wrow[q] + ci0 * KK + t];
            }
        }
        [[unroll]] for (uint c4 = 0; c4 < CI; c4++) {
            uint xbase = p.in_off + (n * p.cin + ci0 + c4) * p.h * p.w;
            [[unroll]] for (uint iry = 0; iry < NR; iry++) {
                /* input row ST·oy + iry − pad (upsampled space), zero outside */
                int iy = int (ST * oy + iry) - int (PAD);
                bool yok = iy >= 0 && iy < int (he);
                uint rb = xbase + (uint (clamp (iy, 0, int (he) - 1)) >> UP) * p.w;
                /* the input columns the 4 pixels read: r[ST·px + kx] */
                float r[9];
                float lf, rt;
                if (ST == 2) {
                    /* columns 2·ox − PAD … 2·ox + 8 − PAD */
                    uint i4 = (rb + 2 * ox) / 4;
                    vec4 v0 = x4[i4], v1 = x4[i4 + 1];
                    v0 = yok ? v0 : vec4 (0.0), v1 = yok ? v1 : vec4 (0.0);
                    r[PAD] = v0.x, r[PAD + 1] = v0.y, r[PAD + 2] = v0.z, r[PAD + 3] = v0.w;
                    r[PAD + 4] = v1.x, r[PAD + 5] = v1.y, r[PAD + 6] = v1.z, r[PAD + 7] = v1.w;
                    lf = subgroupShuffleUp (v1.w, 1), rt = subgroupShuffleDown (v0.x, 1);
                } else if (UP == 0) {
                    vec4 v = x4[(rb + ox) / 4];
                    v = yok ? v : vec4 (0.0);
                    r[PAD] = v.x, r[PAD + 1] = v.y, r[PAD + 2] = v.z, r[PAD + 3] = v.w;
                    lf = subgroupShuffleUp (v.w, 1), rt = subgroupShuffleDown (v.x, 1);
                } else {
                    vec2 v = x2[(rb + ox / 2) / 2];
                    v = yok ? v : vec2 (0.0);
                    r[PAD] = v.x, r[PAD + 1] = v.x, r[PAD + 2] = v.y, r[PAD + 3] = v.y;
                    lf = subgroupShuffleUp (v.y, 1), rt = subgroupShuffleDown (v.x, 1);
                }
                /* the column before (PAD = 1) or after (stride 1 3×3, or
                 * stride 2 PAD = 0) the loaded ones */
                if (EDGE != 0 && KS == 3) {
                    /* lanes 0 and 7 fetch it from outside the subgroup */
                    uint lx = ST == 2 ? 2 * ox - 1 : UP == 0 ? ox - 1 : ox / 2 - 1;
                    uint rx = ST == 2 ? 2 * ox + 8 : UP == 0 ? ox + 4 : ox / 2 + 2;
                    float e = 0.0;
                    if (lane == 0 || lane == SG - 1)
                        e = x[rb + (lane == 0 ? (lok ? lx : 0) : (rok ? rx : 0))];
                    e = yok ? e : 0.0;
                    lf = lane == 0 ? e : lf;
                    rt = lane == SG - 1 ? e : rt;
                }
                if (PAD == 1)
                    r[0] = lok ? lf : 0.0;
                if (KS == 3 && ST == 1)
                    r[5] = rok ? rt : 0.0;
                if (ST == 2 && PAD == 0)
                    r[8] = rok ? rt : 0.0;
                /* input row iry feeds output row yy through kernel row iry − ST·yy;
                 * channel-outer order, so each accumulator takes its KS taps
                 * back to back (fewer spills of the 64 accumulators) */
                [[unroll]] for (uint q = 0; q < CQ; q++)
                    [[unroll]] for (uint c = 0; c < CS; c++)
                        [[unroll]] for (uint yy = 0; yy < YR; yy++) {
                            uint ky = iry - ST * yy;
                            if (iry >= ST * yy && ky < KS) {
                                float wb[3];
                                [[unroll]] for (uint kx = 0; kx < KS; kx++)
                                    wb[kx] = bcast (wv[q * KK * CI + c4 * KK + ky * KS + kx], c);
                                uint a = (yy * CO + q * SG + c) * 4;
                                [[unroll]] for (uint px = 0; px < 4; px++)
                                    [[unroll]] for (uint kx = 0; kx < KS; kx++)
                                        acc[a + px] = fma (wb[kx], r[ST * px + kx], acc[a + px]);
                            }
                }
            }
        }
    }
    /* the bias of channel co0 + lane + SG·q, loaded by that lane (the time
     * embedding depends on the lane's item n, so every lane loads its own) */
    float bl[CQ];
    [[unroll]] for (uint q = 0; q < CQ; q++)
        bl[q] = (p.flags & 1u) != 0 ? bias[p.bias_off + min (co0 + q * SG + lane, p.cout - 1)] : 0.0;
    /* 4 pixels as one vec4 store (and residual load): conv2d.c picks this
     * kernel only for output and residual offsets that allow it.  The time
     * embedding is loaded once per channel, not per row.  Per-lane loads and
     * stores are what this kernel's compile time goes to (lavapipe compiles
     * each variant on a first run), so the epilogue has as few as it can:
     * a scalar fallback and per-row temb loads had made it 6× the main
     * loop's. */
    [[unroll]] for (uint c = 0; c < CO; c++) {
        uint co = co0 + c;
        float add = bcast (bl[c / SG], c % SG);
        if ((p.flags & 2u) != 0)
            add += temb[p.temb_off + n * p.temb_stride + min (co, p.cout - 1)];
        [[unroll]] for (uint yy = 0; yy < YR; yy++) {
            uint y = oy + yy;
            if (valid && co < p.cout && y < p.oh) {
                uint ob = ((n * p.cout + co) * p.oh + y) * p.ow + ox;
                uint a = (yy * CO + c) * 4;
                vec4 v = vec4 (acc[a], acc[a + 1], acc[a + 2], acc[a + 3]) + add;
                if ((p.flags & 4u) != 0)
                    v += res4[(p.res_off + ob) / 4];
                o4[(p.out_off + ob) / 4] = p.out_scale * v;
            }
        }
    }
}
