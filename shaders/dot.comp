/* dot.comp — first pass of the dot product / sum of squares: each
 * workgroup writes the sum of a_i b_i (or a_i² when SQUARE) over its
 * grid-stride share.  Per invocation: Kahan-compensated fp32; across the
 * workgroup: a pairwise tree in shared memory.  reduce-sum.comp finishes. */
#version 450
layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint SQUARE = 0;

layout (push_constant) uniform Push { uint n; } p;
layout (std430, binding = 0) writeonly buffer Partial { float partial[]; };
layout (std430, binding = 1) readonly buffer A { float a[]; };
layout (std430, binding = 2) readonly buffer B { float b[]; };

shared float s[gl_WorkGroupSize.x];

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    float sum = 0.0, comp = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float v = SQUARE != 0 ? a[i] * a[i] : a[i] * b[i];
        float y = v - comp;
        float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    uint l = gl_LocalInvocationID.x;
    s[l] = sum;
    barrier ();
    for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
        if (l < h)
            s[l] += s[l + h];
        barrier ();
    }
    if (l == 0)
        partial[gl_WorkGroupID.x] = s[0];
}
