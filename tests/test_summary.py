"""model.summary(): Keras 3's table (TF_SEMANTICS.md 2.13) for built, Input-built, unbuilt and
subclassed models; thousands separators, byte sizes, print_fn."""
import numpy as np
import pytest

import microtf as tf
from microtf.keras import layers as L
from microtf.keras.summary import readable_memory_size

SAMPLE = '''Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (1, 3)                 │             9 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 9 (36.00 B)
 Trainable params: 9 (36.00 B)
 Non-trainable params: 0 (0.00 B)
'''


def _text(model):
    out = []
    model.summary(print_fn=lambda text, line_break=True: out.append(text))
    assert len(out) == 1  # the whole table in one call, as Keras
    return out[0]


def test_summary_matches_keras_sample_for_a_model_built_by_a_call():
    model = tf.keras.Sequential([L.Dense(3, name="dense")], name="sequential")
    model(np.ones((1, 2), np.float32))
    assert _text(model) == SAMPLE


def test_summary_prints_and_returns_none(capsys):
    model = tf.keras.Sequential([L.Dense(3, name="dense")], name="sequential")
    model(np.ones((1, 2), np.float32))
    assert model.summary() is None
    assert capsys.readouterr().out == SAMPLE
    got = []
    model.summary(print_fn=got.append)  # a one-argument print_fn works too
    assert got == [SAMPLE]


def test_summary_unbuilt():
    model = tf.keras.Sequential([L.Dense(3, name="d1"), L.Dense(2, name="d2")], name="seq")
    lines = _text(model).splitlines()
    assert lines[4:7] == [
        "│ d1 (Dense)                      │ ?                      │   0 (unbuilt) │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ d2 (Dense)                      │ ?                      │   0 (unbuilt) │"]
    assert lines[-3:] == [" Total params: 0 (0.00 B)", " Trainable params: 0 (0.00 B)",
                          " Non-trainable params: 0 (0.00 B)"]


def test_summary_input_gives_none_batch_thousands_and_kb():
    model = tf.keras.Sequential([tf.keras.Input((784,)), L.Dense(128, name="h"),
                                 L.Dropout(0.2, name="drop"), L.Dense(10, name="out")], name="m")
    text = _text(model)
    assert "│ h (Dense)                       │ (None, 128)            │       100,480 │" in text
    assert "│ drop (Dropout)                  │ (None, 128)            │             0 │" in text
    assert "│ out (Dense)                     │ (None, 10)             │         1,290 │" in text
    assert text.endswith(" Total params: 101,770 (397.54 KB)\n Trainable params: 101,770 "
                         "(397.54 KB)\n Non-trainable params: 0 (0.00 B)\n")


def test_summary_frozen_layer_long_name_and_optimizer_params():
    model = tf.keras.Sequential([tf.keras.Input((2,)),
                                 L.Dense(3, name="a_rather_long_layer_name_for_a_dense"),
                                 L.Dense(1, name="b")], name="s")
    model.layers[0].trainable = False
    lines = _text(model).splitlines()
    assert lines[4].startswith("│ a_rather_long_layer_name_for_a_dense (Dense) │ (None, 3) ")
    assert lines[4].startswith("│ a_rather_long_layer_name_for_a_dense (Dense) │")
    assert len({len(line) for line in lines[1:-3]}) == 1  # the column widened on every row
    assert lines[-3:] == [" Total params: 13 (52.00 B)", " Trainable params: 4 (16.00 B)",
                          " Non-trainable params: 9 (36.00 B)"]
    model.compile(optimizer=tf.keras.optimizers.SGD(momentum=0.9), loss="mse")
    assert "Optimizer" not in _text(model)  # no optimizer state before training
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    # iteration (int64, 8 B) + learning_rate (4 B) + one momentum per trainable weight (4 x 4 B)
    assert _text(model).splitlines()[-4:] == [" Total params: 19 (80.00 B)",
                                              " Trainable params: 4 (16.00 B)",
                                              " Non-trainable params: 9 (36.00 B)",
                                              " Optimizer params: 6 (28.00 B)"]


def test_summary_subclassed_model_and_count_params():
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d = L.Dense(4, name="inner")

        def call(self, x):
            return self.d(x)

    net = Net()
    assert "│ inner (Dense)                   │ ?                      │   0 (unbuilt) │" in \
        _text(net)
    net(np.ones((2, 3), np.float32))
    assert "│ inner (Dense)                   │ (2, 4)                 │            16 │" in \
        _text(net)
    assert net.count_params() == 16


@pytest.mark.parametrize("size,text", [(0, "0.00 B"), (36, "36.00 B"), (1023, "1023.00 B"),
                                       (1024, "1.00 KB"), (407080, "397.54 KB"),
                                       (3 * 1024 ** 2, "3.00 MB")])
def test_readable_memory_size(size, text):
    assert readable_memory_size(size) == text


@pytest.mark.parametrize("how", ["fit", "predict"])
def test_summary_after_data_builds_the_model_shows_none_batch(how):
    model = tf.keras.Sequential([L.Dense(3, name="first")], name="fitted")
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((5, 2), np.float32)
    model.fit(x, np.ones((5, 3)), verbose=0) if how == "fit" else model.predict(x, verbose=0)
    assert "│ first (Dense)                   │ (None, 3)              │             9 │" in \
        _text(model)
