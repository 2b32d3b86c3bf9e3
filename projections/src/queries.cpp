// Names of the list orders (OrderBy).
#include <planning/queries.hpp>

namespace planning {

std::string_view to_string(OrderBy order) noexcept {
  switch (order) {
    case OrderBy::created_at: return "created_at";
    case OrderBy::updated_at: return "updated_at";
    case OrderBy::last_activity_at: return "last_activity_at";
    case OrderBy::title: return "title";
  }
  return "unknown";
}

Result<OrderBy> parse_order_by(std::string_view text) {
  for (OrderBy o : {OrderBy::created_at, OrderBy::updated_at, OrderBy::last_activity_at,
                    OrderBy::title}) {
    if (to_string(o) == text) return o;
  }
  return fail(ErrorCode::invalid_argument,
              "unknown order '" + std::string(text) +
                  "' (expected created_at, updated_at, last_activity_at or title)");
}

}  // namespace planning
