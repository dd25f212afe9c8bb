// The one thing tch does not bind that PyTorch's repr() shows: the name of the autograd node
// that made a tensor (`grad_fn=<MmBackward0>`). Python prints `type(t.grad_fn).__name__`, which
// for libtorch's nodes is `Node::name()` without its namespace; so does this.
#include <torch/csrc/autograd/function.h>

#include <algorithm>
#include <cstring>
#include <string>

// Writes at most `capacity` bytes of the name of `tensor`'s grad_fn into `out` and returns the
// name's full length: 0 when the tensor has no grad_fn (a leaf, or made without autograd).
extern "C" size_t bigram_grad_fn_name(const at::Tensor *tensor, char *out, size_t capacity) {
  try {
    const auto &node = tensor->grad_fn();
    if (!node) {
      return 0;
    }
    std::string name = node->name();
    const auto colons = name.rfind("::");
    if (colons != std::string::npos) {
      name = name.substr(colons + 2);
    }
    std::memcpy(out, name.data(), std::min(name.size(), capacity));
    return name.size();
  } catch (...) {
    return 0;
  }
}
