/* softmax-lvp.comp — the CPU-device (lavapipe) variant of softmax.comp:
 * one invocation per row, three passes over it, no shared memory and no
 * barriers (on lavapipe a workgroup barrier costs about 1 µs per workgroup
 * and the tree reduction needs eight of them per row).  Same push block. */
#version 450
layout (local_size_x_id = 0) in;

layout (push_constant) uniform Push { uint rows, cols, off; float scale; } p;
layout (std430, binding = 0) buffer X { float x[]; };

void main ()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint row = gl_GlobalInvocationID.x; row < p.rows; row += stride) {
        uint base = p.off + row * p.cols;
        float m = -3.4e38;
        for (uint i = 0; i < p.cols; i++)
            m = max (m, p.scale * x[base + i]);
        float sum = 0.0;
        for (uint i = 0; i < p.cols; i++) {
            float e = exp (p.scale * x[base + i] - m);
            x[base + i] = e;
            sum += e;
        }
        float inv = 1.0 / sum;
        for (uint i = 0; i < p.cols; i++)
            x[base + i] *= inv;
    }
}
