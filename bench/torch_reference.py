"""PyTorch reference training steps, written in the style of the research repos rnnc replaces
(nn.Module per model, a Python loop over time, sparse teacher forcing, RAdam, norm clipping).

Used by bench/step.ts to time the same models side by side with rnnc. Prints one JSON object:
{case: {"wall": ms, "cpu": ms}}, medians per optimizer step. Run: python3 bench/torch_reference.py [reps] [warmup]
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)

B, T, N = 16, 200, 3


def normalized_pd(M):
    R = torch.randn(M, M)
    K = R.T @ R / M + torch.eye(M)
    return K / torch.linalg.eigvalsh(K).max()


class ClippedDendPLRNN(nn.Module):
    """dendPLRNN repo's clipped-PLRNN step: A z + W sum_b alpha_b [relu(z + H_b) - relu(z)] + h."""

    def __init__(self, M, Bb):
        super().__init__()
        AW = normalized_pd(M)
        self.AW = nn.Parameter(AW)
        self.h = nn.Parameter(torch.empty(M).uniform_(-1 / math.sqrt(M), 1 / math.sqrt(M)))
        self.alpha = nn.Parameter(torch.empty(Bb).uniform_(-1 / math.sqrt(Bb), 1 / math.sqrt(Bb)))
        self.H = nn.Parameter(torch.empty(M, Bb).uniform_(-2, 2))
        self.L = nn.Parameter(torch.empty(M - N, N).uniform_(-1 / math.sqrt(N), 1 / math.sqrt(N)))

    def step(self, z):
        A = torch.diag(self.AW)
        W = self.AW - torch.diag(A)
        phi = (torch.relu(z.unsqueeze(-1) + self.H) - torch.relu(z).unsqueeze(-1)) @ self.alpha
        return A * z + phi @ W.T + self.h

    def z0(self, x):
        return torch.cat([x, x @ self.L.T], dim=1)


class PLRNN(nn.Module):
    def __init__(self, M):
        super().__init__()
        self.AW = nn.Parameter(normalized_pd(M))
        self.h = nn.Parameter(torch.empty(M).uniform_(-1 / math.sqrt(M), 1 / math.sqrt(M)))
        self.L = nn.Parameter(torch.empty(M - N, N).uniform_(-1 / math.sqrt(N), 1 / math.sqrt(N)))

    def step(self, z):
        A = torch.diag(self.AW)
        W = self.AW - torch.diag(A)
        zc = z - z.mean(dim=1, keepdim=True)
        return torch.clamp(A * z + torch.relu(zc) @ W.T + self.h, -10, 10)

    def z0(self, x):
        return torch.cat([x, x @ self.L.T], dim=1)


class ALRNN(nn.Module):
    def __init__(self, M, P):
        super().__init__()
        self.M, self.P = M, P
        self.A = nn.Parameter(torch.diag(normalized_pd(M)))
        self.W = nn.Parameter(torch.randn(M, M) * 0.01)
        self.h = nn.Parameter(torch.zeros(M))
        self.L = nn.Parameter(torch.empty(M - N, N).uniform_(-0.3, 0.3))

    def step(self, z):
        phi = torch.cat([z[:, : self.M - self.P], torch.relu(z[:, self.M - self.P :])], dim=1)
        return self.A * z + phi @ self.W.T + self.h

    def z0(self, x):
        return torch.cat([x, x @ self.L.T], dim=1)


def dsr_step(model, opt, x, tau):
    """One optimizer step of identity sparse teacher forcing (dendPLRNN's BPTT loop)."""
    opt.zero_grad()
    xin = x + 0.05 * torch.randn_like(x)
    z = model.z0(xin[:, 0])
    preds = []
    for t in range(T):
        if t > 0 and t % tau == 0:
            z = torch.cat([xin[:, t], z[:, N:]], dim=1)
        z = model.step(z)
        preds.append(z[:, :N])
    loss = nn.functional.mse_loss(torch.stack(preds, 1), x[:, 1:])
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 10)
    opt.step()


class CTRNN(nn.Module):
    def __init__(self, H, I, O, alpha=0.1):
        super().__init__()
        self.alpha = alpha
        self.rec = nn.Linear(H, H)
        self.inp = nn.Linear(I, H, bias=False)
        self.out = nn.Linear(H, O)

    def forward(self, u):
        x = torch.zeros(u.shape[0], self.rec.in_features)
        ys = []
        for t in range(u.shape[1]):
            noise = 0.1 * torch.randn_like(x)
            x = (1 - self.alpha) * x + self.alpha * (self.rec(torch.tanh(x)) + self.inp(u[:, t]) + noise)
            ys.append(self.out(torch.tanh(x)))
        return torch.stack(ys, 1)


class LSTMModel(nn.Module):
    def __init__(self, H, I, O):
        super().__init__()
        self.cell = nn.LSTMCell(I, H)
        self.out = nn.Linear(H, O)

    def forward(self, u):
        h = torch.zeros(u.shape[0], self.cell.hidden_size)
        c = torch.zeros_like(h)
        ys = []
        for t in range(u.shape[1]):
            h, c = self.cell(u[:, t], (h, c))
            ys.append(self.out(h))
        return torch.stack(ys, 1)


def task_step(model, opt, u, y):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(u), y)
    loss.backward()
    opt.step()


def time_steps(fn, reps, warmup):
    """Median wall and CPU milliseconds per step (CPU time is robust to other load on the machine)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    cpu.sort()
    return {"wall": wall[len(wall) // 2], "cpu": cpu[len(cpu) // 2]}


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    x = torch.randn(B, T + 1, N)
    u = torch.randn(B, T, 3)
    y = torch.randn(B, T, 3)
    out = {}
    m = ClippedDendPLRNN(22, 20)
    o = torch.optim.RAdam(m.parameters(), lr=1e-3)
    out["dendplrnn"] = time_steps(lambda: dsr_step(m, o, x, 25), reps, warmup)
    m = ALRNN(20, 2)
    o = torch.optim.RAdam(m.parameters(), lr=1e-3)
    out["alrnn"] = time_steps(lambda: dsr_step(m, o, x, 16), reps, warmup)
    m = PLRNN(15)
    o = torch.optim.RAdam(m.parameters(), lr=1e-3)
    out["plrnn"] = time_steps(lambda: dsr_step(m, o, x, 15), reps, warmup)
    m = CTRNN(64, 3, 3)
    o = torch.optim.Adam(m.parameters(), lr=1e-3)
    out["ctrnn"] = time_steps(lambda: task_step(m, o, u, y), reps, warmup)
    m = LSTMModel(64, 3, 3)
    o = torch.optim.Adam(m.parameters(), lr=1e-3)
    out["lstm"] = time_steps(lambda: task_step(m, o, u, y), reps, warmup)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
