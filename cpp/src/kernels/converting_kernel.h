// Row kernels for 16-bit storage (Float16, BFloat16) with float32 math, included by simd_kernels.h inside its
// per-ISA namespace. The ISA file provides, for S = Float16 and BFloat16:
//   void widen_row(const S* source, float* destination, int64_t n);   // exact
//   void narrow_row(const float* source, S* destination, int64_t n);  // round to nearest even, NaN stays NaN
// A row is walked in chunks small enough to stay in L1: the chunk's operands are widened into float scratch on
// the stack, the ISA's float32 row kernel runs on it, and the outputs it wrote are narrowed back (the weight-gradient
// terms, doubles for every storage type, and the loss terms, floats, it writes in place). Memory is still read and
// written once; only the scratch is touched twice.

namespace bce4j::BCE4J_SIMD_NAMESPACE {
namespace {

// Elements per chunk: eight float arrays of this length (five operands, three outputs) take 16 KiB.
constexpr int64_t kConvertChunk = 512;

// One operand's float view: a constant (stride 0) operand is widened once, a per-element one chunk by chunk.
template <typename S>
struct WidenedOperand {
    const S* source;
    int64_t stride;
    alignas(64) float values[kConvertChunk];

    explicit WidenedOperand(const S* s, int64_t stride_) : source(s), stride(stride_) {
        if (source && stride == 0) widen_row(source, values, 1);
    }
    // The float pointer for the chunk at `start` of length n (nullptr for an absent operand).
    const float* chunk(int64_t start, int64_t n) {
        if (source == nullptr) return nullptr;
        if (stride != 0) widen_row(source + start, values, n);
        return values;
    }
};

template <typename S, RowKernel<float> kFloatKernel>
RowResult converting_row(int64_t n, const RowArgs<S>& a) {
    if (n <= 0) return {0.0, -1};  // its operand pointers may all point past the end
    RowArgs<float> f;
    f.weight_stride = a.weight_stride;
    f.pos_weight_stride = a.pos_weight_stride;
    f.grad_scale = a.grad_scale;
    f.params = a.params;  // the ignored target is a value of S, so also one of float

    WidenedOperand<S> input(a.input, 1), target(a.target, 1), grad_output(a.grad_output, 1);
    WidenedOperand<S> weight(a.weight, a.weight_stride), pos_weight(a.pos_weight, a.pos_weight_stride);
    alignas(64) float loss[kConvertChunk], grad_input[kConvertChunk], grad_target[kConvertChunk];
    f.loss = a.loss ? loss : nullptr;
    f.grad_input = a.grad_input ? grad_input : nullptr;
    f.grad_target = a.grad_target ? grad_target : nullptr;

    double sum = 0;
    for (int64_t start = 0; start < n; start += kConvertChunk) {
        const int64_t m = std::min(kConvertChunk, n - start);
        f.input = input.chunk(start, m);
        f.target = target.chunk(start, m);
        f.grad_output = grad_output.chunk(start, m);
        f.weight = weight.chunk(start, m);
        f.pos_weight = pos_weight.chunk(start, m);
        // The weight-gradient terms are doubles for every storage type: put into the row's sinks in place.
        f.weight_terms = advanced(a.weight_terms, start);
        f.pos_weight_terms = advanced(a.pos_weight_terms, start);
        f.loss_terms = a.loss_terms ? a.loss_terms + start : nullptr;  // the float32 losses, before narrowing
        const RowResult r = kFloatKernel(m, f);
        sum += r.loss_sum;
        // After an invalid element the outputs are undefined: nothing more is narrowed.
        if (r.first_invalid >= 0) return {sum, start + r.first_invalid};
        if (a.loss) narrow_row(loss, a.loss + start, m);
        if (a.grad_input) narrow_row(grad_input, a.grad_input + start, m);
        if (a.grad_target) narrow_row(grad_target, a.grad_target + start, m);
    }
    return {sum, -1};
}

}  // namespace
}  // namespace bce4j::BCE4J_SIMD_NAMESPACE
