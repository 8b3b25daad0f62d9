/* softmax.comp — row-wise softmax(scale·x) in place, fp32, max-subtracted.
 * Workgroups stride over the rows. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint rows, cols, off; float scale; } p;
layout (std430, binding = 0) buffer X { float x[]; };

shared float red[gl_WorkGroupSize.x];

void main ()
{
    uint l = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        uint base = p.off + row * p.cols;
        float m = -3.4e38;
        for (uint i = l; i < p.cols; i += gl_WorkGroupSize.x)
            m = max (m, p.scale * x[base + i]);
        red[l] = m;
        barrier ();
        for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
            if (l < s)
                red[l] = max (red[l], red[l + s]);
            barrier ();
        }
        m = red[0];
        barrier (); /* red[0] read by all before reuse */
        float sum = 0.0;
        for (uint i = l; i < p.cols; i += gl_WorkGroupSize.x) {
            float e = exp (p.scale * x[base + i] - m);
            x[base + i] = e;
            sum += e;
        }
        red[l] = sum;
        barrier ();
        for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
            if (l < s)
                red[l] += red[l + s];
            barrier ();
        }
        float inv = 1.0 / red[0];
        barrier (); /* red[0] read by all before the next row */
        for (uint i = l; i < p.cols; i += gl_WorkGroupSize.x)
            x[base + i] *= inv;
        barrier (); /* row finished before the shared array is reused */
    }
}
