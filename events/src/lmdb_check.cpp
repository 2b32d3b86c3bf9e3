// Structural check of an LMDB 0.9 data file; see lmdb_check.hpp. The layout
// constants and rules mirror liblmdb's mdb.c (MDB_page, MDB_node, MDB_meta,
// MDB_db) for 64-bit little- or big-endian hosts reading a file of their own
// byte order, and a default (non-MDB_DEVEL) build.
#include "events/src/lmdb_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace planning::detail {
namespace {

constexpr std::uint32_t kPageHeader = 16;  // PAGEHDRSZ
constexpr std::uint32_t kNodeHeader = 8;   // NODESIZE
constexpr std::uint32_t kMetaEnd = kPageHeader + 136;  // PAGEHDRSZ + sizeof(MDB_meta)
constexpr std::uint32_t kDbSize = 48;                  // sizeof(MDB_db)
constexpr std::uint16_t P_BRANCH = 0x01, P_LEAF = 0x02, P_OVERFLOW = 0x04, P_META = 0x08,
                        P_LEAF2 = 0x20, P_SUBP = 0x40;
constexpr std::uint16_t F_BIGDATA = 0x01, F_SUBDATA = 0x02, F_DUPDATA = 0x04;
constexpr std::uint16_t kReverseKey = 0x02, kDupSort = 0x04, kIntegerKey = 0x08,
                        kDupFixed = 0x10, kIntegerDup = 0x20, kReverseDup = 0x40;
constexpr std::uint16_t kKnownDbFlags =
    kReverseKey | kDupSort | kIntegerKey | kDupFixed | kIntegerDup | kReverseDup;
constexpr std::uint32_t kMagic = 0xBEEFC0DE;
constexpr std::uint32_t kDataVersion = 1;
constexpr std::uint64_t kInvalidPage = ~std::uint64_t{0};
constexpr unsigned kMaxDepth = 32;  // CURSOR_STACK
constexpr std::uint32_t kMaxKey = 511;

template <typename T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct Db {
  std::uint32_t pad = 0;
  std::uint16_t flags = 0;
  std::uint16_t depth = 0;
  std::uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0, root = kInvalidPage;
};

Db load_db(const unsigned char* p) {
  Db db;
  db.pad = load<std::uint32_t>(p);
  db.flags = load<std::uint16_t>(p + 4);
  db.depth = load<std::uint16_t>(p + 6);
  db.branch = load<std::uint64_t>(p + 8);
  db.leaf = load<std::uint64_t>(p + 16);
  db.overflow = load<std::uint64_t>(p + 24);
  db.entries = load<std::uint64_t>(p + 32);
  db.root = load<std::uint64_t>(p + 40);
  return db;
}

struct Meta {
  std::uint16_t page_flags = 0;
  std::uint64_t pgno = 0;
  std::uint32_t magic = 0, version = 0;
  Db free, main;
  std::uint64_t mapsize = 0, last_pg = 0, txnid = 0;
};

enum class Order : std::uint8_t { bytes, reverse, integer };

Order order_of(bool reverse, bool integer) {
  if (integer) return Order::integer;
  return reverse ? Order::reverse : Order::bytes;
}

// <0, 0, >0 as LMDB's comparators would order a and b.
int compare(Order order, std::string_view a, std::string_view b) {
  switch (order) {
    case Order::bytes:
      return a.compare(b);
    case Order::reverse: {
      std::string ra(a.rbegin(), a.rend()), rb(b.rbegin(), b.rend());
      return ra.compare(rb);
    }
    case Order::integer: {
      if (a.size() != b.size() || (a.size() != 4 && a.size() != 8)) return a.compare(b);
      if (a.size() == 4) {
        const auto x = load<std::uint32_t>(reinterpret_cast<const unsigned char*>(a.data()));
        const auto y = load<std::uint32_t>(reinterpret_cast<const unsigned char*>(b.data()));
        return x < y ? -1 : x > y ? 1 : 0;
      }
      const auto x = load<std::uint64_t>(reinterpret_cast<const unsigned char*>(a.data()));
      const auto y = load<std::uint64_t>(reinterpret_cast<const unsigned char*>(b.data()));
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
  return 0;
}

// One database being walked.
struct Tree {
  std::string name;  // for messages
  Order key_order = Order::bytes;
  Order dup_order = Order::bytes;
  bool dupsort = false;
  bool dupfixed = false;
  bool main = false;     // the main database (F_SUBDATA nodes are named databases)
  bool free = false;     // the free-page database
  bool dup_tree = false; // a DUPSORT sub-tree (keys are the duplicates, no data)
  bool shallow = false;  // check the root page only
  std::uint32_t fixed_size = 0;  // key size of P_LEAF2 pages
  std::uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0;
  int leaf_depth = -1;
};

using Bound = std::optional<std::string>;

class Checker {
 public:
  Checker(int fd, std::uint64_t file_size, bool full) : fd_(fd), file_size_(file_size), full_(full) {}

  std::string problem;  // the first problem found
  std::uint32_t psize = 0;
  std::uint64_t last_pg = 0;
  std::uint64_t visited = 0;
  std::uint64_t databases = 0;

  bool fail(std::string message) {
    if (problem.empty()) problem = std::move(message);
    return false;
  }

  bool read_at(std::uint64_t offset, std::size_t size, std::vector<unsigned char>& out,
               std::string_view what) {
    out.resize(size);
    if (offset > file_size_ || size > file_size_ - offset) {
      return fail(fmt::format("{} lies beyond the end of data.mdb ({} bytes; truncated?)", what,
                              file_size_));
    }
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd_, out.data() + done, size - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return fail(fmt::format("cannot read {} of data.mdb: {}", what,
                                n < 0 ? std::strerror(errno) : "unexpected end of file"));
      }
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool read_meta(unsigned index, std::uint64_t offset, Meta& meta) {
    std::vector<unsigned char> buf;
    if (!read_at(offset, kMetaEnd, buf, fmt::format("meta page {}", index))) return false;
    const unsigned char* p = buf.data();
    meta.pgno = load<std::uint64_t>(p);
    meta.page_flags = load<std::uint16_t>(p + 10);
    meta.magic = load<std::uint32_t>(p + 16);
    meta.version = load<std::uint32_t>(p + 20);
    meta.mapsize = load<std::uint64_t>(p + 32);
    meta.free = load_db(p + 40);
    meta.main = load_db(p + 88);
    meta.last_pg = load<std::uint64_t>(p + 136);
    meta.txnid = load<std::uint64_t>(p + 144);
    const std::string where = fmt::format("meta page {}", index);
    if ((meta.page_flags & P_META) == 0) {
      return fail(fmt::format("{} is not a meta page (flags 0x{:x})", where, meta.page_flags));
    }
    if (meta.magic != kMagic) return fail(where + " has a wrong magic number (not an LMDB file?)");
    if (meta.version != kDataVersion) {
      return fail(fmt::format("{} has LMDB data version {} (expected {})", where, meta.version,
                              kDataVersion));
    }
    if (meta.pgno != index) {
      return fail(fmt::format("{} records page number {}", where, meta.pgno));
    }
    if (meta.txnid != 0 && (meta.txnid & 1) != index) {
      return fail(fmt::format("{} holds transaction {}, which belongs in meta page {}", where,
                              meta.txnid, meta.txnid & 1));
    }
    return true;
  }

  bool check_meta_tree_fields(const Meta& meta, unsigned index, std::uint32_t page_size) {
    const std::string where = fmt::format("meta page {}", index);
    // A map no process could map (x86-64 and AArch64 give user space 2^47
    // bytes), or a last page outside the map LMDB allocated it in.
    if (meta.mapsize > (std::uint64_t{1} << 47)) {
      return fail(fmt::format("{}: map size {} is impossible", where, meta.mapsize));
    }
    if (meta.last_pg < 1 || meta.last_pg > meta.mapsize / page_size) {
      return fail(fmt::format("{}: last page {} is impossible (the map holds {} bytes)", where,
                              meta.last_pg, meta.mapsize));
    }
    if ((meta.main.flags & ~kKnownDbFlags) != 0) {
      return fail(fmt::format("{}: main database has unknown flags 0x{:x}", where, meta.main.flags));
    }
    for (const auto* db : {&meta.free, &meta.main}) {
      const char* name = db == &meta.free ? "free-page database" : "main database";
      if (db->root == kInvalidPage) {
        if (db->depth != 0 || db->entries != 0) {
          return fail(fmt::format("{}: the empty {} records depth {} and {} entries", where, name,
                                  db->depth, db->entries));
        }
        continue;
      }
      if (db->root < 2 || db->root > meta.last_pg) {
        return fail(fmt::format("{}: {} root page {} is outside pages 2..{}", where, name,
                                db->root, meta.last_pg));
      }
      if (db->depth == 0 || db->depth > kMaxDepth) {
        return fail(fmt::format("{}: {} depth {} is impossible", where, name, db->depth));
      }
    }
    return true;
  }

  // Reads page `pgno` after checking it is a page of this snapshot.
  bool read_page(std::uint64_t pgno, std::vector<unsigned char>& page, const std::string& where) {
    if (pgno < 2 || pgno > last_pg) {
      return fail(fmt::format("{} names page {}, outside pages 2..{}", where, pgno, last_pg));
    }
    if (!mark(pgno, where)) return false;
    return read_at(pgno * psize, psize, page, fmt::format("page {} ({})", pgno, where));
  }

  bool mark(std::uint64_t pgno, const std::string& where) {
    ++visited;
    if (!full_) return true;
    if (seen_.empty()) seen_.assign(last_pg + 1, false);
    if (seen_[pgno]) return fail(fmt::format("page {} ({}) is reached twice", pgno, where));
    seen_[pgno] = true;
    return true;
  }

  // Checks key order inside a page and against the parent's bounds.
  bool check_key(const Tree& tree, Order order, std::string_view key, const std::string* previous,
                 const Bound& lo, const Bound& hi, const std::string& where) {
    if (previous != nullptr && compare(order, *previous, key) >= 0) {
      return fail(where + ": keys out of order");
    }
    if ((lo && compare(order, key, *lo) < 0) || (hi && compare(order, key, *hi) >= 0)) {
      return fail(where + ": a key lies outside its parent's key range");
    }
    (void)tree;
    return true;
  }

  // Validates a node's offset inside a page of `size` bytes whose nodes live at
  // [upper, size); returns its offset or 0.
  std::uint32_t node_offset(const unsigned char* page, std::uint32_t size, std::uint32_t upper,
                            unsigned i, const std::string& where) {
    const std::uint32_t off = load<std::uint16_t>(page + kPageHeader + 2 * i);
    if (off < upper || off % 2 != 0 || std::uint64_t{off} + kNodeHeader > size) {
      fail(fmt::format("{}: node {} at offset {} lies outside the node area [{}, {})", where, i,
                       off, upper, size));
      return 0;
    }
    const std::uint32_t ksize = load<std::uint16_t>(page + off + 6);
    if (std::uint64_t{off} + kNodeHeader + ksize > size) {
      fail(fmt::format("{}: node {} key of {} bytes runs past the page", where, i, ksize));
      return 0;
    }
    return off;
  }

  bool walk(Tree& tree, std::uint64_t pgno, unsigned level, const Bound& lo, const Bound& hi) {
    const std::string where = fmt::format("page {} of {}", pgno, tree.name);
    if (level >= kMaxDepth) return fail(where + ": the tree is deeper than LMDB allows (32)");
    std::vector<unsigned char> buf;
    if (!read_page(pgno, buf, tree.name)) return false;
    const unsigned char* page = buf.data();
    const auto recorded = load<std::uint64_t>(page);
    const auto flags = load<std::uint16_t>(page + 10);
    const auto lower = load<std::uint16_t>(page + 12);
    const auto upper = load<std::uint16_t>(page + 14);
    if (recorded != pgno) return fail(fmt::format("{}: header records page number {}", where, recorded));
    const std::uint16_t type = flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_SUBP);
    if (type != P_BRANCH && type != P_LEAF) {
      return fail(fmt::format("{}: not a branch or leaf page (flags 0x{:x})", where, flags));
    }
    const bool leaf2 = (flags & P_LEAF2) != 0;
    if (leaf2 && (type != P_LEAF || !tree.dup_tree || !tree.dupfixed)) {
      return fail(fmt::format("{}: unexpected LEAF2 flag (flags 0x{:x})", where, flags));
    }
    if (lower < kPageHeader || (lower - kPageHeader) % 2 != 0 || lower > upper || upper > psize) {
      return fail(fmt::format("{}: free-space bounds {}..{} are impossible", where, lower, upper));
    }
    const unsigned keys = (lower - kPageHeader) / 2;
    if (type == P_BRANCH) return walk_branch(tree, page, pgno, keys, upper, level, lo, hi, where);
    ++tree.leaf;
    if (tree.leaf_depth < 0) tree.leaf_depth = static_cast<int>(level);
    if (tree.leaf_depth != static_cast<int>(level)) {
      return fail(fmt::format("{}: leaf at depth {} where other leaves are at depth {}", where,
                              level + 1, tree.leaf_depth + 1));
    }
    if (leaf2) return walk_leaf2(tree, page, psize, keys, tree.fixed_size, lo, hi, where);
    return walk_leaf(tree, page, keys, upper, lo, hi, where);
  }

  bool walk_branch(Tree& tree, const unsigned char* page, std::uint64_t pgno, unsigned keys,
                   std::uint32_t upper, unsigned level, const Bound& lo, const Bound& hi,
                   const std::string& where) {
    ++tree.branch;
    if (keys < (tree.free ? 1u : 2u)) {
      return fail(fmt::format("{}: branch page with {} key(s)", where, keys));
    }
    std::vector<std::uint64_t> children(keys);
    std::vector<std::string> separators(keys);
    for (unsigned i = 0; i < keys; ++i) {
      const std::uint32_t off = node_offset(page, psize, upper, i, where);
      if (off == 0) return false;
      const std::uint32_t ksize = load<std::uint16_t>(page + off + 6);
      if (ksize > kMaxKey) return fail(fmt::format("{}: node {} key of {} bytes", where, i, ksize));
      children[i] = load<std::uint16_t>(page + off) |
                    (std::uint64_t{load<std::uint16_t>(page + off + 2)} << 16) |
                    (std::uint64_t{load<std::uint16_t>(page + off + 4)} << 32);
      if (children[i] < 2 || children[i] > last_pg) {
        return fail(fmt::format("{}: node {} names child page {}, outside pages 2..{}", where, i,
                                children[i], last_pg));
      }
      if (i == 0) continue;  // the first separator is the parent's
      separators[i].assign(reinterpret_cast<const char*>(page + off + kNodeHeader), ksize);
      const Order order = tree.dup_tree ? tree.dup_order : tree.key_order;
      if (!check_key(tree, order, separators[i], i > 1 ? &separators[i - 1] : nullptr, lo, hi,
                     where)) {
        return false;
      }
    }
    (void)pgno;
    if (tree.shallow) return true;
    for (unsigned i = 0; i < keys; ++i) {
      const Bound child_lo = i == 0 ? lo : Bound(separators[i]);
      const Bound child_hi = i + 1 == keys ? hi : Bound(separators[i + 1]);
      if (!walk(tree, children[i], level + 1, child_lo, child_hi)) return false;
    }
    return true;
  }

  bool walk_leaf2(Tree& tree, const unsigned char* page, std::uint32_t size, unsigned keys,
                  std::uint32_t ksize, const Bound& lo, const Bound& hi, const std::string& where) {
    if (ksize == 0 || ksize > kMaxKey || std::uint64_t{keys} * ksize + kPageHeader > size) {
      return fail(fmt::format("{}: {} fixed-size keys of {} bytes do not fit", where, keys, ksize));
    }
    std::string previous;
    for (unsigned i = 0; i < keys; ++i) {
      std::string key(reinterpret_cast<const char*>(page + kPageHeader + i * ksize), ksize);
      if (!check_key(tree, tree.dup_order, key, i > 0 ? &previous : nullptr, lo, hi, where)) {
        return false;
      }
      previous = std::move(key);
      ++tree.entries;
    }
    return true;
  }

  bool walk_leaf(Tree& tree, const unsigned char* page, unsigned keys, std::uint32_t upper,
                 const Bound& lo, const Bound& hi, const std::string& where) {
    std::string previous;
    for (unsigned i = 0; i < keys; ++i) {
      const std::uint32_t off = node_offset(page, psize, upper, i, where);
      if (off == 0) return false;
      const std::uint32_t dsize = load<std::uint16_t>(page + off) |
                                  (std::uint32_t{load<std::uint16_t>(page + off + 2)} << 16);
      const std::uint16_t nflags = load<std::uint16_t>(page + off + 4);
      const std::uint32_t ksize = load<std::uint16_t>(page + off + 6);
      const std::string node = fmt::format("{}: node {}", where, i);
      if (ksize > kMaxKey) return fail(fmt::format("{} key of {} bytes", node, ksize));
      std::string key(reinterpret_cast<const char*>(page + off + kNodeHeader), ksize);
      const Order order = tree.dup_tree ? tree.dup_order : tree.key_order;
      if (!check_key(tree, order, key, i > 0 ? &previous : nullptr, lo, hi, where)) return false;
      const unsigned char* data = page + off + kNodeHeader + ksize;
      const std::uint64_t data_end = std::uint64_t{off} + kNodeHeader + ksize;
      const std::uint32_t stored = (nflags & F_BIGDATA) != 0 ? 8 : dsize;
      if (data_end + stored > psize) {
        return fail(fmt::format("{} data of {} bytes runs past the page", node, stored));
      }
      if (tree.dup_tree && (nflags != 0 || dsize != 0)) {
        return fail(fmt::format("{} of a duplicate sub-tree carries data", node));
      }
      switch (nflags) {
        case 0:
          ++tree.entries;
          if (tree.free && !check_free_list(std::string_view(reinterpret_cast<const char*>(data), dsize), node)) {
            return false;
          }
          break;
        case F_BIGDATA: {
          ++tree.entries;
          if (!check_overflow(tree, load<std::uint64_t>(data), dsize, node)) return false;
          break;
        }
        case F_SUBDATA:
          if (!tree.main || dsize != kDbSize) {
            return fail(fmt::format("{} has an unexpected sub-database flag", node));
          }
          ++tree.entries;
          if (!walk_named(key, load_db(data), node)) return false;
          break;
        case F_DUPDATA:
          if (!tree.dupsort) return fail(fmt::format("{} has duplicates in a database without them", node));
          if (!check_subpage(tree, data, dsize, node)) return false;
          break;
        case F_DUPDATA | F_SUBDATA: {
          if (!tree.dupsort || dsize != kDbSize) {
            return fail(fmt::format("{} has an impossible duplicate sub-tree record", node));
          }
          const Db db = load_db(data);
          Tree sub;
          sub.name = tree.name + " (duplicates of one key)";
          sub.dup_tree = true;
          sub.dup_order = tree.dup_order;
          sub.key_order = tree.dup_order;
          sub.dupfixed = tree.dupfixed;
          sub.fixed_size = db.pad;
          sub.shallow = tree.shallow;
          if (db.root == kInvalidPage) return fail(node + ": empty duplicate sub-tree");
          if (!walk_db(sub, db, node)) return false;
          tree.entries += db.entries;
          break;
        }
        default:
          return fail(fmt::format("{} has impossible flags 0x{:x}", node, nflags));
      }
      previous = std::move(key);
    }
    return true;
  }

  // A DUPSORT sub-page: a small leaf page inside a node's data.
  bool check_subpage(Tree& tree, const unsigned char* sub, std::uint32_t size,
                     const std::string& node) {
    if (size < kPageHeader) return fail(node + ": duplicate sub-page shorter than its header");
    const auto flags = load<std::uint16_t>(sub + 10);
    const auto lower = load<std::uint16_t>(sub + 12);
    const auto upper = load<std::uint16_t>(sub + 14);
    if ((flags & (P_LEAF | P_SUBP)) != (P_LEAF | P_SUBP) || (flags & (P_BRANCH | P_OVERFLOW | P_META)) != 0) {
      return fail(fmt::format("{}: duplicate sub-page has flags 0x{:x}", node, flags));
    }
    if (lower < kPageHeader || (lower - kPageHeader) % 2 != 0 || lower > upper || upper > size) {
      return fail(fmt::format("{}: duplicate sub-page bounds {}..{} are impossible", node, lower, upper));
    }
    const unsigned keys = (lower - kPageHeader) / 2;
    if ((flags & P_LEAF2) != 0) {
      if (!tree.dupfixed) return fail(node + ": fixed-size duplicates in a database without them");
      return walk_leaf2(tree, sub, size, keys, load<std::uint16_t>(sub + 8), {}, {}, node);
    }
    std::string previous;
    for (unsigned i = 0; i < keys; ++i) {
      const std::uint32_t off = node_offset(sub, size, upper, i, node + " (sub-page)");
      if (off == 0) return false;
      const std::uint32_t dsize = load<std::uint16_t>(sub + off) |
                                  (std::uint32_t{load<std::uint16_t>(sub + off + 2)} << 16);
      const std::uint32_t ksize = load<std::uint16_t>(sub + off + 6);
      if (dsize != 0 || load<std::uint16_t>(sub + off + 4) != 0 || ksize > kMaxKey) {
        return fail(fmt::format("{}: duplicate {} of the sub-page is malformed", node, i));
      }
      std::string key(reinterpret_cast<const char*>(sub + off + kNodeHeader), ksize);
      if (!check_key(tree, tree.dup_order, key, i > 0 ? &previous : nullptr, {}, {}, node)) {
        return false;
      }
      previous = std::move(key);
      ++tree.entries;
    }
    return true;
  }

  bool check_overflow(Tree& tree, std::uint64_t pgno, std::uint32_t dsize, const std::string& node) {
    const std::uint64_t needed = (kPageHeader - 1 + std::uint64_t{dsize}) / psize + 1;  // OVPAGES
    if (pgno < 2 || pgno > last_pg) {
      return fail(fmt::format("{} names overflow page {}, outside pages 2..{}", node, pgno, last_pg));
    }
    if (tree.shallow) return true;
    std::vector<unsigned char> head;
    if (!read_at(pgno * psize, kPageHeader, head, fmt::format("overflow page {} ({})", pgno, node))) {
      return false;
    }
    const auto recorded = load<std::uint64_t>(head.data());
    const auto flags = load<std::uint16_t>(head.data() + 10);
    const auto pages = load<std::uint32_t>(head.data() + 12);
    if (recorded != pgno || (flags & (P_OVERFLOW | P_BRANCH | P_LEAF | P_META)) != P_OVERFLOW) {
      return fail(fmt::format("{}: page {} is not its overflow page (header page {}, flags 0x{:x})",
                              node, pgno, recorded, flags));
    }
    if (pages < needed || pgno + pages - 1 > last_pg) {
      return fail(fmt::format("{}: overflow run of {} pages at page {} (needs {}, last page {})",
                              node, pages, pgno, needed, last_pg));
    }
    if ((pgno + pages) * psize > file_size_) {
      return fail(fmt::format("{}: overflow pages {}..{} lie beyond the end of data.mdb ({} bytes; "
                              "truncated?)",
                              node, pgno, pgno + pages - 1, file_size_));
    }
    for (std::uint64_t p = pgno; p < pgno + pages; ++p) {
      if (!mark(p, node + " overflow")) return false;
    }
    tree.overflow += pages;
    if (tree.free) {
      std::vector<unsigned char> value;
      if (!read_at(pgno * psize + kPageHeader, dsize, value, fmt::format("overflow page {}", pgno))) {
        return false;
      }
      return check_free_list(
          std::string_view(reinterpret_cast<const char*>(value.data()), value.size()), node);
    }
    return true;
  }

  // A free-page record: a count n then n page numbers, each a page of the file.
  bool check_free_list(std::string_view value, const std::string& node) {
    if (!full_) return true;
    if (value.size() < 8 || value.size() % 8 != 0) {
      return fail(fmt::format("{}: free-page list of {} bytes", node, value.size()));
    }
    const auto* p = reinterpret_cast<const unsigned char*>(value.data());
    const std::uint64_t count = load<std::uint64_t>(p);
    if (count != value.size() / 8 - 1) {
      return fail(fmt::format("{}: free-page list counts {} pages in {} bytes", node, count, value.size()));
    }
    for (std::uint64_t i = 1; i <= count; ++i) {
      const auto pg = load<std::uint64_t>(p + 8 * i);
      if (pg < 2 || pg > last_pg) {
        return fail(fmt::format("{}: free-page list names page {}, outside pages 2..{}", node, pg, last_pg));
      }
      free_pages_.push_back(pg);
    }
    return true;
  }

  bool walk_db(Tree& tree, const Db& db, const std::string& where) {
    if (db.root == kInvalidPage) {
      if (db.depth != 0 || db.entries != 0 || db.branch != 0 || db.leaf != 0 || db.overflow != 0) {
        return fail(where + ": an empty database records pages or entries");
      }
      return true;
    }
    if (db.depth == 0 || db.depth > kMaxDepth) {
      return fail(fmt::format("{}: depth {} is impossible", where, db.depth));
    }
    if (!walk(tree, db.root, 0, {}, {})) return false;
    if (!full_ || tree.shallow) return true;
    if (tree.leaf_depth + 1 != db.depth || tree.branch != db.branch || tree.leaf != db.leaf ||
        tree.overflow != db.overflow || tree.entries != db.entries) {
      return fail(fmt::format(
          "{}: the database record says depth {}, {} branch, {} leaf, {} overflow pages and {} "
          "entries; the tree holds {}, {}, {}, {} and {}",
          where, db.depth, db.branch, db.leaf, db.overflow, db.entries, tree.leaf_depth + 1,
          tree.branch, tree.leaf, tree.overflow, tree.entries));
    }
    return true;
  }

  bool walk_named(std::string_view name, const Db& db, const std::string& node) {
    ++databases;
    if ((db.flags & ~kKnownDbFlags) != 0) {
      return fail(fmt::format("{}: database '{}' has unknown flags 0x{:x}", node, name, db.flags));
    }
    Tree tree;
    tree.name = fmt::format("database '{}'", printable(name));
    tree.key_order = order_of((db.flags & kReverseKey) != 0, (db.flags & kIntegerKey) != 0);
    tree.dup_order = order_of((db.flags & kReverseDup) != 0, (db.flags & kIntegerDup) != 0);
    tree.dupsort = (db.flags & kDupSort) != 0;
    tree.dupfixed = (db.flags & kDupFixed) != 0;
    tree.shallow = !full_;
    return walk_db(tree, db, tree.name);
  }

  bool check_free_disjoint() {
    if (!full_) return true;
    if (seen_.empty()) seen_.assign(last_pg + 1, false);
    std::vector<bool> listed(last_pg + 1, false);
    for (const auto pg : free_pages_) {
      if (listed[pg]) return fail(fmt::format("page {} is listed as free twice", pg));
      if (seen_[pg]) return fail(fmt::format("page {} is both in use and listed as free", pg));
      listed[pg] = true;
    }
    return true;
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
      if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
      else out += fmt::format("\\x{:02x}", c);
    }
    return out;
  }

 private:
  int fd_;
  std::uint64_t file_size_;
  bool full_;
  std::vector<bool> seen_;
  std::vector<std::uint64_t> free_pages_;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<StructureSummary> check_lmdb_structure(const std::filesystem::path& data_file,
                                            StructureDepth depth,
                                            std::optional<std::uint64_t> snapshot_txnid) {
  const std::string file = data_file.string();
  Fd fd;
  fd.fd = ::open(data_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd.fd < 0) {
    return fail(ErrorCode::storage, fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) {
    return fail(ErrorCode::storage, fmt::format("cannot stat {}: {}", file, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::storage, file + " is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  auto damaged = [&](const std::string& what) {
    return fail(ErrorCode::corruption, fmt::format("{} is damaged: {}", file, what));
  };
  if (size == 0) return damaged("the file is empty (0 bytes): it holds no LMDB meta pages");
  Checker checker(fd.fd, size, depth == StructureDepth::full);

  Meta metas[2];
  if (!checker.read_meta(0, 0, metas[0])) return damaged(checker.problem);
  const std::uint32_t psize = metas[0].free.pad;  // mm_psize
  if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0) {
    return damaged(fmt::format("meta page 0 records a page size of {} bytes", psize));
  }
  if (!checker.read_meta(1, psize, metas[1])) return damaged(checker.problem);
  if (metas[1].free.pad != psize) {
    return damaged(fmt::format("the meta pages disagree on the page size ({} and {})", psize,
                               metas[1].free.pad));
  }
  const std::uint64_t t0 = metas[0].txnid, t1 = metas[1].txnid;
  if (!(t0 == 0 && t1 == 0) && (t0 > t1 ? t0 - t1 : t1 - t0) != 1) {
    return damaged(fmt::format("the meta pages hold transactions {} and {}, which are not "
                               "consecutive",
                               t0, t1));
  }
  unsigned pick = t0 < t1 ? 1 : 0;  // mdb_env_pick_meta
  if (snapshot_txnid) {
    if (t0 == *snapshot_txnid) {
      pick = 0;
    } else if (t1 == *snapshot_txnid) {
      pick = 1;
    } else {
      return fail(ErrorCode::conflict,
                  fmt::format("snapshot {} of {} was overwritten", *snapshot_txnid, file));
    }
  }
  const Meta& meta = metas[pick];
  if (!checker.check_meta_tree_fields(meta, pick, psize)) return damaged(checker.problem);
  checker.psize = psize;
  checker.last_pg = meta.last_pg;
  StructureSummary out;
  out.txnid = meta.txnid;
  out.page_size = psize;
  out.last_pgno = meta.last_pg;
  out.file_size = size;
  if (depth == StructureDepth::metas) return out;

  Tree free_tree;
  free_tree.name = "the free-page database";
  free_tree.free = true;
  free_tree.key_order = Order::integer;
  free_tree.shallow = depth != StructureDepth::full;
  if (!checker.walk_db(free_tree, meta.free, free_tree.name)) return damaged(checker.problem);
  Tree main_tree;
  main_tree.name = "the main database";
  main_tree.main = true;
  main_tree.key_order = order_of((meta.main.flags & kReverseKey) != 0, (meta.main.flags & kIntegerKey) != 0);
  main_tree.dup_order = order_of((meta.main.flags & kReverseDup) != 0, (meta.main.flags & kIntegerDup) != 0);
  main_tree.dupsort = (meta.main.flags & kDupSort) != 0;
  main_tree.dupfixed = (meta.main.flags & kDupFixed) != 0;
  if (!checker.walk_db(main_tree, meta.main, main_tree.name)) return damaged(checker.problem);
  if (!checker.check_free_disjoint()) return damaged(checker.problem);

  out.pages_visited = checker.visited;
  out.databases = checker.databases;
  return out;
}

}  // namespace planning::detail
