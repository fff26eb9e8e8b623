// The scalar deposit and scan of repro_sum.h: the reference the vector ones must equal, bit for bit.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "repro_deposit.h"

namespace bce4j::repro_scalar {

struct Ops {
    using V = double;
    static constexpr int kAccumulators = 12;
    static constexpr int kLanes = 1;
    static V load(const double* p) { return *p; }
    static V load(const float* p) { return *p; }
    static V splat(double v) { return v; }
    static V add(V a, V b) { return a + b; }
    static V sub(V a, V b) { return a - b; }
    static V or_low_bit(V v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        bits |= 1;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    static void store(double* p, V v) { *p = v; }
};

#include "repro_deposit_impl.h"

template <typename T>
ReproScan scan(const T* values, int64_t n) {
    uint64_t max_bits = 0;
    uint64_t min_bits_less_one = UINT64_MAX;  // |x| bits - 1: a zero wraps to the largest
    for (int64_t i = 0; i < n; ++i) {
        const double v = values[i];
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        bits &= ~(uint64_t{1} << 63);
        max_bits = bits > max_bits ? bits : max_bits;
        min_bits_less_one = bits - 1 < min_bits_less_one ? bits - 1 : min_bits_less_one;
    }
    return {max_bits, min_bits_less_one + 1};
}

}  // namespace bce4j::repro_scalar

namespace bce4j {

const ReproDeposits& scalar_repro_deposits() {
    static const ReproDeposits deposits{"scalar", repro_scalar::scan<double>, repro_scalar::scan<float>,
                                        repro_scalar::deposit<repro_scalar::Ops, double>,
                                        repro_scalar::deposit<repro_scalar::Ops, float>};
    return deposits;
}

}  // namespace bce4j
