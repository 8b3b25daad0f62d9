/* attn-window.comp — neighbourhood attention: each query token attends to
 * the wh × ww keys of a window around it, shifted inward at the borders so it
 * always holds min(wh, h) × min(ww, w) keys (a window at least the canvas is
 * global attention).  q, k, v, o: batch × c × h·w (channel = head·dh + j);
 * o = softmax(scale · q·kᵀ over the window) · v, fp32, max-subtracted.
 * One invocation per (item, head, query); scores kept in registers
 * (at most MAXK keys, a specialization constant). */
#version 450
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint MAXK = 64;

layout (push_constant) uniform Push {
    uint batch, c, h, w, dh, heads, wh, ww, q_off, k_off, v_off, o_off;
    float scale;
} p;
layout (std430, binding = 0) readonly buffer Q { float q[]; };
layout (std430, binding = 1) readonly buffer K { float k[]; };
layout (std430, binding = 2) readonly buffer V { float v[]; };
layout (std430, binding = 3) writeonly buffer O { float o[]; };

void main ()
{
    const uint hw = p.h * p.w, total = p.batch * p.heads * hw;
    for (uint gid = gl_GlobalInvocationID.x; gid < total; gid += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
    const uint t = gid % hw, bh = gid / hw, head = bh % p.heads, b = bh / p.heads;
    const uint ty = t / p.w, tx = t % p.w;
    const uint eh = min (p.wh, p.h), ew = min (p.ww, p.w);
    const uint y0 = uint (clamp (int (ty) - int (eh / 2), 0, int (p.h - eh)));
    const uint x0 = uint (clamp (int (tx) - int (ew / 2), 0, int (p.w - ew)));
    const uint base = (b * p.c + head * p.dh) * hw;
    float s[MAXK];
    float m = -3.4e38;
    uint n = 0;
    for (uint yy = 0; yy < eh; yy++)
        for (uint xx = 0; xx < ew; xx++) {
            const uint key = (y0 + yy) * p.w + x0 + xx;
            float acc = 0.0;
            for (uint j = 0; j < p.dh; j++)
                acc += q[p.q_off + base + j * hw + t] * k[p.k_off + base + j * hw + key];
            acc *= p.scale;
            s[n++] = acc;
            m = max (m, acc);
        }
    float l = 0.0;
    for (uint i = 0; i < n; i++) {
        s[i] = exp (s[i] - m);
        l += s[i];
    }
    const float inv = 1.0 / l;
    for (uint j = 0; j < p.dh; j++) {
        float acc = 0.0;
        uint i = 0;
        for (uint yy = 0; yy < eh; yy++)
            for (uint xx = 0; xx < ew; xx++, i++)
                acc += s[i] * v[p.v_off + base + j * hw + (y0 + yy) * p.w + x0 + xx];
        o[p.o_off + base + j * hw + t] = acc * inv;
    }
    }
}
