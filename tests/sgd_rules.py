"""Helpers for the tests that write a training step out as plain SGD and compare it with the
package's step (tests/test_reference_steps.py, tests/test_stabilisers.py)."""

import numpy as np
import tensorflow as tf

LR = 0.05  # the SGD learning rate both sides of every comparison use


def values(variables):
    return [v.numpy().copy() for v in variables]


def sgd_update(start, grads, lr=LR):
    # An embedding's gradient comes as IndexedSlices; tf.convert_to_tensor makes it dense.
    return [w - lr * tf.convert_to_tensor(g).numpy() for w, g in zip(start, grads)]


def assign(variables, new_values):
    for v, value in zip(variables, new_values):
        v.assign(value)


def assert_close(variables, expected, atol=1e-5):
    for v, want in zip(variables, expected):
        np.testing.assert_allclose(v.numpy(), want, atol=atol, rtol=1e-4)


def differs(variables, expected, atol=1e-5):
    return any(not np.allclose(v.numpy(), want, atol=atol, rtol=1e-4) for v, want in zip(variables, expected))
