/* reduce-sum.comp — second pass of dot.comp: one workgroup sums n partial
 * sums (Kahan per invocation, pairwise tree across) into out[0]. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint n; } p;
layout (std430, binding = 0) writeonly buffer Out { float o[]; };
layout (std430, binding = 1) readonly buffer In { float x[]; };

shared float s[gl_WorkGroupSize.x];

void main ()
{
    uint l = gl_LocalInvocationID.x;
    float sum = 0.0, comp = 0.0;
    for (uint i = l; i < p.n; i += gl_WorkGroupSize.x) {
        float y = x[i] - comp;
        float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    s[l] = sum;
    barrier ();
    for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
        if (l < h)
            s[l] += s[l + h];
        barrier ();
    }
    if (l == 0)
        o[0] = s[0];
}
