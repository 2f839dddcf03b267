"""The walk-through of docs/interop.md: a small PyTorch model trained on data.csv, exported to
model.onnx, and one more training step captured under backprop's ids in torch-step.json."""

import warnings
from pathlib import Path

import torch
from torch import nn

from backprop_cli.interop import capture_torch_step, write_json

rows = [line.split(",") for line in Path("data.csv").read_text().split()[1:]]
x = torch.tensor([[float(a), float(b)] for a, b, _ in rows], dtype=torch.float64)
t = torch.tensor([[float(y)] for _, _, y in rows], dtype=torch.float64)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid()).double()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for _ in range(200):  # one update per epoch on the whole file
    optimizer.zero_grad()
    nn.MSELoss()(model(x), t).backward()
    optimizer.step()

with warnings.catch_warnings():  # the TorchScript exporter says it is the old one
    warnings.simplefilter("ignore")
    torch.onnx.export(model, (x[:1],), "model.onnx", dynamo=False, input_names=["x"])

# The next step, PyTorch's own, under backprop's ids: w1+, dE_batch/dw1, E_total[1], ...
values = capture_torch_step(model, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.5), x, t)
write_json(values, "torch-step.json", digits=12, given=False)
print(f"E_total = {values['E+']:.9f} after the step; w1: {values['w1']!r} -> {values['w1+']!r}")
