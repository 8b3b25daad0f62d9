/* attn-window-lvp.comp — the CPU-device (lavapipe) variant of
 * attn-window.comp: the same neighbourhood attention (each query attends to
 * the min(wh, h) × min(ww, w) keys of the window around it, shifted inward at
 * the borders), the same Push block and layout (batch × c × h·w, channel =
 * head·dh + j), o = softmax(scale · q·kᵀ over the window) · v in fp32.
 *
 * lavapipe runs a subgroup's SG invocations (8 with its default 256-bit
 * vectors, 16 with LP_NATIVE_VECTOR_WIDTH=512, 4 with 128) as the lanes of one
 * SIMD register, and a load whose address differs per lane costs a scalar
 * load per lane.  So a workgroup is one subgroup holding SG neighbouring
 * queries of one row (one per lane): their windows share the key rows and
 * differ by a column each, so together they cover at most ew + SG − 1
 * columns.  The keys are walked in chunks of SG columns of that union: each
 * lane loads one key (value) per channel and subgroupBroadcast hands it to
 * the other lanes, so one load feeds SG FMAs;
 * keys outside a lane's own window get weight 0.  The softmax is online (the
 * running maximum rescales the sum and the output, as in FlashAttention), so
 * no score array is kept.  q (pre-scaled) and the output stay in registers:
 * DH, the head width, is a specialization constant.  No shared memory, no
 * barriers.
 *
 * V4 = 1 (rows, DH and the k, v offsets multiples of 4, resp. SG for DH): a
 * chunk starts on a multiple of 4 and lane L loads its SG keys (values) of
 * channels L, L + SG, … as SG / 4 vec4s, a quarter of the lane loads of the scalar
 * path (on lavapipe each lane-varying load, whatever its width, is a
 * bounds-checked scalar load per lane). */
#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint DH = 32; /* head width, the push constant dh */
layout (constant_id = 2) const uint V4 = 0;  /* 1: keys and values loaded as vec4s */
layout (constant_id = 3) const uint SG = 8;  /* the subgroup size (4, 8 or 16), = the workgroup size */
const uint NV = SG / 4;                      /* V4: vec4s per lane, channel and chunk */

layout (push_constant) uniform Push {
    uint batch, c, h, w, dh, heads, wh, ww, q_off, k_off, v_off, o_off;
    float scale;
} p;
layout (std430, binding = 0) readonly buffer Q { float q[]; };
layout (std430, binding = 1) readonly buffer K { float k[]; };
layout (std430, binding = 2) readonly buffer V { float v[]; };
layout (std430, binding = 1) readonly buffer K4 { vec4 k4[]; };
layout (std430, binding = 2) readonly buffer V4b { vec4 v4[]; };
layout (std430, binding = 3) writeonly buffer O { float o[]; };

/* subgroupBroadcast wants a constant lane: c is one after unrolling. */
float bcast (float x, uint c)
{
    switch (c) {
    case 0: return subgroupBroadcast (x, 0);
    case 1: return subgroupBroadcast (x, 1);
    case 2: return subgroupBroadcast (x, 2);
    case 3: return subgroupBroadcast (x, 3);
    case 4: return subgroupBroadcast (x, 4);
    case 5: return subgroupBroadcast (x, 5);
    case 6: return subgroupBroadcast (x, 6);
    case 7: return subgroupBroadcast (x, 7);
    case 8: return subgroupBroadcast (x, 8);
    case 9: return subgroupBroadcast (x, 9);
    case 10: return subgroupBroadcast (x, 10);
    case 11: return subgroupBroadcast (x, 11);
    case 12: return subgroupBroadcast (x, 12);
    case 13: return subgroupBroadcast (x, 13);
    case 14: return subgroupBroadcast (x, 14);
    default: return subgroupBroadcast (x, 15);
    }
}

void main ()
{
    const uint lane = gl_SubgroupInvocationID;
    const uint hw = p.h * p.w, nbx = (p.w + SG - 1) / SG, total = p.batch * p.heads * p.h * nbx;
    const uint eh = min (p.wh, p.h), ew = min (p.ww, p.w);
    for (uint g = gl_WorkGroupID.x; g < total; g += gl_NumWorkGroups.x) {
        /* g = ((b · heads + head) · h + ty) · nbx + bx; lane → query column bx·SG + lane */
        const uint bx = g % nbx, r = g / nbx, ty = r % p.h, bh = r / p.h, head = bh % p.heads, b = bh / p.heads;
        const bool valid = bx * SG + lane < p.w;
        const uint tx = min (bx * SG + lane, p.w - 1);
        const uint y0 = uint (clamp (int (ty) - int (eh / 2), 0, int (p.h - eh)));
        /* this lane's window columns [x0, x0 + ew); the union of the SG
         * windows runs from lane 0's start to the last query's end */
        const uint x0 = uint (clamp (int (tx) - int (ew / 2), 0, int (p.w - ew)));
        const uint ux0 = uint (clamp (int (bx * SG) - int (ew / 2), 0, int (p.w - ew)));
        const uint txl = min (bx * SG + SG - 1, p.w - 1);
        const uint ux1 = uint (clamp (int (txl) - int (ew / 2), 0, int (p.w - ew))) + ew;
        /* V4: chunks start on a multiple of 4 */
        const uint cx0 = V4 != 0 ? ux0 & ~3u : ux0;
        const uint nch = (ux1 - cx0 + SG - 1) / SG;
        const uint base = (b * p.c + head * p.dh) * hw;

        float qv[DH], acc[DH];
        [[unroll]] for (uint j = 0; j < DH; j++) {
            qv[j] = p.scale * q[p.q_off + base + j * hw + ty * p.w + tx];
            acc[j] = 0.0;
        }
        float m = -3.4e38, l = 0.0;
        for (uint yy = 0; yy < eh; yy++) {
            const uint krow = base + (y0 + yy) * p.w;
            for (uint ch = 0; ch < nch; ch++) {
                /* keys kc … kc + SG − 1 of row y0 + yy; lane loads column kc + lane */
                const uint kc = cx0 + ch * SG, col = krow + min (kc + lane, p.w - 1);
                /* V4: lane L's vec4s of channel SG·t + L hold columns kc … kc + SG − 1
                 * (those past the row's end repeat the first) */
                const uint c4 = krow + lane * hw + kc;
                uint vi[NV];
                [[unroll]] for (uint i = 0; i < NV; i++)
                    vi[i] = kc + 4 * i < p.w ? i : 0;
                float s[SG];
                [[unroll]] for (uint c = 0; c < SG; c++)
                    s[c] = 0.0;
                if (V4 != 0) {
                    [[unroll]] for (uint t = 0; t < DH / SG; t++) {
                        const uint a4 = (p.k_off + c4 + t * SG * hw) / 4;
                        float kk[SG];
                        [[unroll]] for (uint i = 0; i < NV; i++) {
                            const vec4 f = k4[a4 + vi[i]];
                            kk[4 * i] = f.x, kk[4 * i + 1] = f.y, kk[4 * i + 2] = f.z, kk[4 * i + 3] = f.w;
                        }
                        [[unroll]] for (uint jl = 0; jl < SG; jl++)
                            [[unroll]] for (uint c = 0; c < SG; c++)
                                s[c] = fma (qv[t * SG + jl], bcast (kk[c], jl), s[c]);
                    }
                } else {
                    [[unroll]] for (uint j = 0; j < DH; j++) {
                        const float kv = k[p.k_off + col + j * hw];
                        [[unroll]] for (uint c = 0; c < SG; c++)
                            s[c] = fma (qv[j], bcast (kv, c), s[c]);
                    }
                }
                /* keys outside this lane's window weigh 0 */
                float mc = m;
                bool inw[SG];
                [[unroll]] for (uint c = 0; c < SG; c++) {
                    inw[c] = kc + c >= x0 && kc + c < x0 + ew;
                    mc = inw[c] ? max (mc, s[c]) : mc;
                }
                const float corr = exp (m - mc);
                float pr[SG];
                float ls = 0.0;
                [[unroll]] for (uint c = 0; c < SG; c++) {
                    pr[c] = inw[c] ? exp (s[c] - mc) : 0.0;
                    ls += pr[c];
                }
                l = l * corr + ls;
                m = mc;
                if (V4 != 0) {
                    [[unroll]] for (uint t = 0; t < DH / SG; t++) {
                        const uint a4 = (p.v_off + c4 + t * SG * hw) / 4;
                        float vv[SG];
                        [[unroll]] for (uint i = 0; i < NV; i++) {
                            const vec4 f = v4[a4 + vi[i]];
                            vv[4 * i] = f.x, vv[4 * i + 1] = f.y, vv[4 * i + 2] = f.z, vv[4 * i + 3] = f.w;
                        }
                        [[unroll]] for (uint jl = 0; jl < SG; jl++) {
                            float a = acc[t * SG + jl] * corr;
                            [[unroll]] for (uint c = 0; c < SG; c++)
                                a = fma (pr[c], bcast (vv[c], jl), a);
                            acc[t * SG + jl] = a;
                        }
                    }
                } else {
                    [[unroll]] for (uint j = 0; j < DH; j++) {
                        const float vv = v[p.v_off + col + j * hw];
                        float a = acc[j] * corr;
                        [[unroll]] for (uint c = 0; c < SG; c++)
                            a = fma (pr[c], bcast (vv, c), a);
                        acc[j] = a;
                    }
                }
            }
        }
        if (valid) {
            const float inv = 1.0 / l;
            [[unroll]] for (uint j = 0; j < DH; j++)
                o[p.o_off + base + j * hw + ty * p.w + tx] = acc[j] * inv;
        }
    }
}
