// Corpus replay: feeds every file of tests/fuzz/corpus/<target>/ (and a few inputs too
// big to check in, generated here) to the same entry function libFuzzer drives. Runs
// in the normal build under ctest, so the corpus guards against regressions without
// clang or libFuzzer.
//
//   herald_fuzz_replay <corpus-root> <target>      e.g. ... tests/fuzz/corpus fuzz_decoder
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int herald_fuzz_decoder(const std::uint8_t* data, std::size_t size);
extern "C" int herald_fuzz_jwt_claims(const std::uint8_t* data, std::size_t size);
extern "C" int herald_fuzz_socks5_reply(const std::uint8_t* data, std::size_t size);
extern "C" int herald_fuzz_connect_response(const std::uint8_t* data, std::size_t size);

namespace {

using Entry = int (*)(const std::uint8_t*, std::size_t);

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3Fu];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3Fu];
  return out;
}

// Inputs too large to check in: deep nesting and oversize frames.
std::vector<std::string> generated(std::string_view target) {
  std::vector<std::string> out;
  if (target == "fuzz_decoder") {
    out.push_back(std::string(100'000, '['));
    out.push_back(repeat("[", 100'000) + repeat("]", 100'000));
    out.push_back(R"({"type":"notification","id":1,"data":)" + repeat(R"({"a":)", 100'000) + "1" +
                  repeat("}", 100'000) + "}");
    out.push_back(R"({"type":"notification","id":1,"data":)" + repeat(R"({"a":)", 100'000));
    out.push_back(R"({"type":"notification","id":2,"data":{"blob":")" + std::string(2u << 20, 'x') + "\"}}");
    out.push_back(R"({"type":"notification","id":3,"data":{"blob":")" + std::string((1u << 20) - 64, 'y') + "\"}}");
  } else if (target == "fuzz_connect_response") {
    out.push_back("HTTP/1.1 200 OK\r\nX: " + std::string(20'000, 'x') + "\r\n\r\n");  // over the header limit
    out.push_back("HTTP/1.1 200 OK" + repeat("\r\n\r", 5'000));
    out.push_back(std::string(100'000, '\r'));
  } else if (target == "fuzz_socks5_reply") {
    out.push_back(std::string{'\x05', '\x00', '\x00', '\x03', '\xff'} + std::string(255, 'n') + "\x01\xbb");
    out.push_back(std::string(100'000, '\x05'));
  } else {
    const auto payload = base64url(R"({"exp":1767229200,"pad":")" + std::string(20'000, 'p') + "\"}");
    out.push_back("e30." + payload + ".sig");
    out.push_back("e30." + base64url(std::string(100'000, '[')) + ".sig");
    out.push_back(std::string(100'000, '.'));
  }
  return out;
}

int run(const std::filesystem::path& dir, std::string_view target, Entry entry) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  if (ec || files.empty()) {
    std::cerr << "no corpus files in " << dir << (ec ? ": " + ec.message() : std::string()) << "\n";
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cout << "replay " << f.filename().string() << " (" << bytes.size() << " bytes)\n" << std::flush;
    entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  const auto extra = generated(target);
  for (const auto& input : extra) {
    std::cout << "replay generated input (" << input.size() << " bytes)\n" << std::flush;
    entry(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  std::cout << target << ": " << files.size() << " corpus files and " << extra.size() << " generated inputs passed\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: herald_fuzz_replay <corpus-root> "
                 "<fuzz_decoder|fuzz_jwt_claims|fuzz_socks5_reply|fuzz_connect_response>\n";
    return 2;
  }
  const std::string_view target = argv[2];
  const std::filesystem::path dir = std::filesystem::path(argv[1]) / target;
  if (target == "fuzz_decoder") return run(dir, target, herald_fuzz_decoder);
  if (target == "fuzz_jwt_claims") return run(dir, target, herald_fuzz_jwt_claims);
  if (target == "fuzz_socks5_reply") return run(dir, target, herald_fuzz_socks5_reply);
  if (target == "fuzz_connect_response") return run(dir, target, herald_fuzz_connect_response);
  std::cerr << "unknown target " << target << "\n";
  return 2;
}
