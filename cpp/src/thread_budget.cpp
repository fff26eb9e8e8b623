#include "thread_budget.h"

#include <omp.h>

namespace bce4j {

ThreadBudget& process_thread_budget() {
    static ThreadBudget budget(omp_get_max_threads());
    return budget;
}

}  // namespace bce4j
