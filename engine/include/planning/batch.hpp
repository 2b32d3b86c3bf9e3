// planning/batch.hpp — several operations committed in one transaction.
//
//   planning::WriteBatch batch;
//   batch.create({.title = "A"}).pause(id, "waiting").archive(other_id);
//   auto results = manager.apply_batch(batch);   // one durable commit
//
// Operations are independent: one that is rejected gets its Error in its result
// slot and changes nothing, the others still apply, in order. Operations later in
// a batch see the effects of earlier ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <planning/requests.hpp>

namespace planning {

class WriteBatch {
 public:
  enum class Kind : std::uint8_t {
    create, update, pause, resume, archive, mark_converted, remove, create_version, restore_version
  };
  // One queued operation; only the members its kind uses are meaningful.
  struct Operation {
    Kind kind = Kind::create;
    std::string session_id{};
    CreateRequest create{};
    UpdateRequest update{};
    ConvertRequest convert{};
    std::string text{};  // pause reason / change summary
    std::string by{};
    std::uint32_t version_number = 0;
  };

  WriteBatch& create(CreateRequest request);
  WriteBatch& update(std::string id, UpdateRequest request);
  WriteBatch& pause(std::string id, std::string reason = {}, std::string by = {});
  WriteBatch& resume(std::string id, std::string by = {});
  WriteBatch& archive(std::string id, std::string by = {});
  WriteBatch& mark_converted(std::string id, ConvertRequest request);
  WriteBatch& remove(std::string id, std::string by = {});
  WriteBatch& create_version(std::string id, std::string change_summary = {}, std::string by = {});
  WriteBatch& restore_version(std::string id, std::uint32_t version_number, std::string by = {});

  std::size_t size() const noexcept { return operations_.size(); }
  bool empty() const noexcept { return operations_.empty(); }
  void clear() noexcept { operations_.clear(); }
  const std::vector<Operation>& operations() const noexcept { return operations_; }

 private:
  std::vector<Operation> operations_;
};

}  // namespace planning
