// SPDX-License-Identifier: MIT
// Checks two object files built from the same source with different -march flags (the units
// of test_mixed_flags) for what would break the one-definition rule at link time: an fxp
// function defined in both (a weak symbol: the linker keeps one body for both units) whose
// code depends on the instruction set. Such a function's body would call into the
// per-instruction-set namespaces (fxp::...::built_for_<set>::, see
// fxp/simd/detail/isa_namespace.hpp) or use 256- or 512-bit registers; every function that
// does must have a name of its own in each unit instead. The objects are compiled without
// auto-vectorization (CMakeLists.txt), so that vector registers mean fxp's SIMD code and not
// the compiler's choice for scalar code, which no library can rename per unit.
//
// Usage: fxp_check_symbols <object> <object>. Exit 0: clean; 1: violations, listed;
// 77: both objects were built for the same instruction set (nothing to compare); 2: usage.

#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view isa_namespace_marker = "built_for_";

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) out.append(buffer, got);
  if (pclose(pipe.release()) != 0) throw std::runtime_error("failed: " + command);
  return out;
}

/// Whether a mangled name is one of fxp's entities (functions, variables, vtables, guards):
/// its outermost namespace is fxp.
bool is_fxp(const std::string& mangled) {
  const auto at = mangled.find("3fxp");
  return mangled.rfind("_Z", 0) == 0 && at != std::string::npos && at <= 10;
}

/// The per-instruction-set namespaces a mangled name (or a disassembly listing of mangled
/// names) mentions ("built_for_avx2_fma", ...). A mangled identifier is its length in
/// decimal, then its characters: the digits just before the marker say where it ends.
std::set<std::string> isa_namespaces(const std::string& text) {
  std::set<std::string> found;
  for (auto at = text.find(isa_namespace_marker); at != std::string::npos;
       at = text.find(isa_namespace_marker, at + 1)) {
    auto digits = at;
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(text[digits - 1])) && at - digits < 3) --digits;
    // The shortest suffix of those digits that makes a whole identifier of the marker.
    for (auto d = at; d-- > digits;) {
      const std::size_t length = std::stoul(text.substr(d, at - d));
      if (length > isa_namespace_marker.size() && at + length <= text.size()) {
        found.insert(text.substr(at, length));
        break;
      }
    }
  }
  return found;
}

struct object {
  std::string path;
  std::set<std::string> defined;                 // global or weak fxp symbols
  std::map<std::string, std::string> bodies;     // function -> its disassembly with relocations
  std::set<std::string> namespaces;              // the built_for_ namespaces it defines symbols in
};

object read_object(const std::string& path) {
  object o{path, {}, {}, {}};
  std::istringstream nm(run("nm --defined-only '" + path + "'"));
  for (std::string line; std::getline(nm, line);) {
    std::istringstream fields(line);
    std::string address, type, name;
    if (!(fields >> address >> type >> name)) continue;
    // Upper case: global or weak; 'u': unique global. Lower case is local to the object.
    if (type.size() == 1 && (std::isupper(static_cast<unsigned char>(type[0])) || type == "u") &&
        is_fxp(name)) {
      o.defined.insert(name);
      for (const auto& ns : isa_namespaces(name)) o.namespaces.insert(ns);
    }
  }
  std::istringstream dis(run("objdump -d -r --no-show-raw-insn '" + path + "'"));
  std::string current;
  for (std::string line; std::getline(dis, line);) {
    // "0000000000000000 <_ZN3fxp...>:" opens a function.
    const auto open = line.find(" <");
    if (open != std::string::npos && line.size() > 2 && line.compare(line.size() - 2, 2, ">:") == 0) {
      current = line.substr(open + 2, line.size() - open - 4);
      continue;
    }
    if (!current.empty() && o.defined.count(current) != 0) o.bodies[current] += line + '\n';
  }
  return o;
}

/// The registers wider than baseline x86-64's that a body uses, or "".
std::string wide_registers(const std::string& body) {
  if (body.find("%zmm") != std::string::npos) return "512-bit";
  if (body.find("%ymm") != std::string::npos) return "256-bit";
  return "";
}

/// Why this body depends on the instruction set, or "".
std::string isa_dependence(const std::string& body) {
  const std::string wide = wide_registers(body);
  if (!wide.empty()) return "uses " + wide + " registers";
  // What it refers to is in its relocations (objdump's <symbol+offset> after a call or jump
  // only names the nearest symbol it knows, often one of another section).
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("R_X86_64_") == std::string::npos) continue;
    const auto called = isa_namespaces(line);
    if (!called.empty()) return "refers to " + *called.begin() + " code";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fxp_check_symbols <object> <object>\n";
    return 2;
  }
  try {
    const object a = read_object(argv[1]);
    const object b = read_object(argv[2]);
    for (const object* o : {&a, &b}) {
      std::cout << o->path << ": " << o->defined.size() << " fxp symbols, namespaces:";
      for (const auto& ns : o->namespaces) std::cout << ' ' << ns;
      std::cout << '\n';
      if (o->namespaces.size() != 1) {
        std::cout << "FAIL: expected the symbols of exactly one instruction-set namespace\n";
        return 1;
      }
    }
    if (a.namespaces == b.namespaces) {
      std::cout << "both objects were built for the same instruction set: nothing to compare\n";
      return 77;
    }
    std::size_t common = 0, violations = 0;
    for (const auto& name : a.defined) {
      if (b.defined.count(name) == 0) continue;
      ++common;
      for (const object* o : {&a, &b}) {
        const auto body = o->bodies.find(name);
        if (body == o->bodies.end()) continue;  // data: vtables, guards, constants
        const std::string why = isa_dependence(body->second);
        if (!why.empty()) {
          ++violations;
          std::cout << "FAIL: " << name << " is defined in both objects and in " << o->path << ' '
                    << why << '\n';
          break;
        }
      }
    }
    std::cout << common << " fxp symbols defined in both objects, " << violations
              << " of them with code that depends on the instruction set\n";
    return violations == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "fxp_check_symbols: " << e.what() << '\n';
    return 2;
  }
}
