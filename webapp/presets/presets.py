PRESETS = [
    {"slug": "xor-relu-adam", "title": "XOR with a small ReLU net", "lesson": "A hidden layer bends the boundary.",
     "spec": {"name": "XOR, ReLU, Adam", "data": {"dataset": "xor"}}},
]
