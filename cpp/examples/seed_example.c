/* The README's C example, built and run by CTest: it shows the header compiles as plain C and the seed value. */
#include <bce4j/bce4j.h>
#include <math.h>
#include <stdio.h>

int main(void) {
    const float logits[3] = {5.0f, 1.0f, 3.0f};
    const float labels[3] = {1.0f, 0.0f, 1.0f};
    const int64_t shape[1] = {3};
    float grad_logits[3];
    double loss = 0.0;

    bce4j_options options;
    bce4j_options_init(&options); /* reduction mean, default threads, no weights */

    bce4j_status status = bce4j_bce_with_logits(&options, BCE4J_FLOAT32, 1, shape, logits, labels,
                                                NULL /* upstream gradient 1 */, NULL, &loss, grad_logits, NULL);
    if (status != BCE4J_OK) {
        fprintf(stderr, "%s: %s\n", bce4j_status_name(status), bce4j_last_error_message());
        return 1;
    }
    printf("loss %.8f, grad_input [%.6f, %.6f, %.6f]\n", loss, grad_logits[0], grad_logits[1], grad_logits[2]);
    return fabs(loss - 0.45618813) < 1e-7 ? 0 : 1;
}
