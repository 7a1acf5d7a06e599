"""Callbacks (hook order, History, EarlyStopping, TerminateOnNaN, LambdaCallback) and the progress
output of fit/evaluate/predict for verbose=0/1/2 (Keras 3's formats, checked with regexes)."""
import re

import numpy as np
import pytest

import microtf as tf
from microtf.keras import callbacks as C
from microtf.keras import layers as L
from microtf.keras.progbar import Progbar, format_logs


@pytest.fixture(autouse=True)
def _seeded():
    tf.keras.utils.set_random_seed(0)


def _data(n=100):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model(lr=0.01):
    model = tf.keras.Sequential([tf.keras.Input((4,)), L.Dense(2, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Recorder(C.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *args: calls.append((name,) + tuple(a for a in args
                                                              if isinstance(a, int)))
        return object.__getattribute__(self, name)

    def _wants(self, hook):
        return True


def test_hook_order_in_fit_with_validation():
    x, y = _data(40)
    rec = Recorder()
    _model().fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[rec],
                 validation_data=(x[:10], y[:10]))
    epoch = [("on_train_batch_begin", 0), ("on_train_batch_end", 0),
             ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
             ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
             ("on_test_end",)]
    assert rec.calls == ([("on_train_begin",), ("on_epoch_begin", 0)] + epoch +
                         [("on_epoch_end", 0), ("on_epoch_begin", 1)] + epoch +
                         [("on_epoch_end", 1), ("on_train_end",)])
    assert rec.model is not None and rec.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_hook_order_in_evaluate_and_predict():
    x, y = _data(30)
    model, rec = _model(), Recorder()
    model.evaluate(x, y, batch_size=20, verbose=0, callbacks=[rec])
    model.predict(x, batch_size=20, verbose=0, callbacks=[rec])
    assert rec.calls == [("on_test_begin",), ("on_test_batch_begin", 0),
                         ("on_test_batch_end", 0), ("on_test_batch_begin", 1),
                         ("on_test_batch_end", 1), ("on_test_end",),
                         ("on_predict_begin",), ("on_predict_batch_begin", 0),
                         ("on_predict_batch_end", 0), ("on_predict_batch_begin", 1),
                         ("on_predict_batch_end", 1), ("on_predict_end",)]


def test_batch_logs_are_running_means_and_epoch_logs_match_history():
    x, y = _data(64)
    batch_logs, epoch_logs = [], []
    cb = C.LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs)),
                          on_epoch_end=lambda e, logs: epoch_logs.append(dict(logs)))
    hist = _model(lr=0.0).fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb],
                              shuffle=False)
    assert len(batch_logs) == 4 and list(batch_logs[0]) == ["accuracy", "loss"]
    assert batch_logs[-1] == epoch_logs[0]
    assert epoch_logs[0]["loss"] == hist.history["loss"][0]
    assert all(type(v) is float for v in batch_logs[1].values())


def test_on_batch_end_alias_gets_training_batches():
    class Old(C.Callback):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_end(self, batch, logs=None):
            self.batches.append((batch, sorted(logs)))

    x, y = _data(40)
    cb = Old()
    _model().fit(x, y, batch_size=20, verbose=0, callbacks=[cb])
    assert cb.batches == [(0, ["accuracy", "loss"]), (1, ["accuracy", "loss"])]


def test_early_stopping_stops_and_restores_best_weights():
    x, y = _data(40)
    model = _model(lr=0.5)
    stop = C.EarlyStopping(monitor="loss", patience=1, min_delta=1e9)  # never improves enough
    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop])
    assert hist.epoch == [0, 1] and stop.stopped_epoch == 1 and model.stop_training
    model = _model(lr=0.5)
    first = []
    stop = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True,
                           mode="max")  # the best val_loss for 'max' is the first epoch's
    keep = C.LambdaCallback(on_epoch_end=lambda e, logs: first.append(model.get_weights())
                            if e == 0 else None)
    hist = model.fit(x, y, epochs=10, verbose=0, validation_data=(x, y), callbacks=[keep, stop])
    assert len(hist.epoch) == 3 and stop.best_epoch == 0
    for a, b in zip(first[0], model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_missing_monitor_warns_and_mode_auto():
    x, y = _data(20)
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_loss` "
                                         "which is not available. Available metrics are: "
                                         "accuracy,loss"):
        hist = _model().fit(x, y, epochs=2, verbose=0, callbacks=[C.EarlyStopping()])
    assert hist.epoch == [0, 1]
    for monitor, maximize in [("val_accuracy", True), ("loss", False), ("accuracy", True)]:
        stop = C.EarlyStopping(monitor=monitor)
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[stop], validation_data=(x, y))
        assert stop._maximize is maximize and stop.best == stop.best  # set, not NaN
    with pytest.raises(ValueError, match="monitor=f1.*mode='max'"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.EarlyStopping(monitor="f1")])


def test_early_stopping_baseline_and_restore_without_stopping(capsys):
    x, y = _data(40)
    model = _model(lr=0.1)
    # The first epoch is a new best but misses the baseline, so patience keeps counting.
    stop = C.EarlyStopping(monitor="loss", mode="max", baseline=100.0, patience=2, verbose=1)
    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop])
    assert hist.epoch == [0, 1]
    assert capsys.readouterr().out == "Epoch 2: early stopping\n"
    model = _model(lr=0.5)
    stop = C.EarlyStopping(monitor="loss", mode="max", patience=5, restore_best_weights=True)
    first = []
    keep = C.LambdaCallback(on_epoch_end=lambda e, logs: first.append(model.get_weights()))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[keep, stop])
    for a, b in zip(first[0], model.get_weights()):  # restored although training did not stop
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_stops_cleanly(capsys):
    x, y = _data(64)
    x[40:] = np.nan  # the third batch of 16 has a NaN loss
    model = _model()
    seen = []
    cb = C.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False,
                     callbacks=[C.TerminateOnNaN(), cb])
    assert seen == [0, 1, 2] and hist.epoch == [0] and model.stop_training
    assert np.isnan(hist.history["loss"][0])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_stop_training_flag_from_a_callback_and_bad_callback():
    x, y = _data(40)
    model = _model()

    def stop(epoch, logs):
        model.stop_training = True

    hist = model.fit(x, y, epochs=5, verbose=0, callbacks=[C.LambdaCallback(on_epoch_end=stop)])
    assert hist.epoch == [0]
    assert model.fit(x, y, epochs=2, verbose=0).epoch == [0, 1]  # the flag resets
    with pytest.raises(ValueError, match="instances of `tf.keras.callbacks.Callback`.*print"):
        model.fit(x, y, verbose=0, callbacks=[print])
    with pytest.raises(TypeError, match="on_epoch_finish"):
        C.LambdaCallback(on_epoch_finish=print)


# -- progress output -------------------------------------------------------------------------------
BAR = r"\d+/\d+ \u2501{20} \d+s \d+(us|ms|s)/step"
METRICS = r" - accuracy: \d\.\d{4} - loss: \d\.\d{4}"


def test_fit_verbose_1_not_a_tty_prints_final_lines(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(BAR.replace(r"\d+/\d+", "4/4") + METRICS, lines[1]), lines[1]


def test_fit_verbose_auto_one_epoch_has_no_header_and_val_keys(capsys):
    x, y = _data()
    _model().fit(x, y, validation_split=0.2)
    out = capsys.readouterr().out
    assert re.fullmatch("3/3 " + BAR[8:] + METRICS + r" - val_accuracy: \d\.\d{4} - val_loss: "
                        r"\d\.\d{4}\n", out), out


def test_fit_verbose_2_and_0(capsys):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(r"(Epoch \d/2\n4/4 - \d+s - \d+(us|ms)/step%s\n){2}" % METRICS, out), out
    _model().fit(x, y, epochs=2, verbose=0)
    _model().evaluate(x, y, verbose=0)
    _model().predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_bars(capsys):
    x, y = _data(200)
    model = _model()
    model.evaluate(x, y)
    model.evaluate(x, y, verbose=2)
    model.predict(x[:10])
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(BAR.replace(r"\d+/\d+", "7/7") + METRICS, lines[0]), lines[0]
    assert re.fullmatch(r"7/7 - \d+s - \d+(us|ms)/step" + METRICS, lines[1]), lines[1]
    assert re.fullmatch(BAR.replace(r"\d+/\d+", "1/1"), lines[2]), lines[2]


class FakeTTY:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progbar_redraws_in_place_on_a_terminal():
    tty = FakeTTY()
    bar = Progbar(4, verbose=1, stream=tty, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 1.0 / step}, finalize=False)
    bar.update(4, {"loss": 0.25}, finalize=True)
    frames = tty.text.split("\r")[1:]
    assert len(frames) == 5 and tty.text.endswith("\n") and tty.text.count("\n") == 1
    plain = [re.sub(r"\x1b\[\d+m", "", f) for f in frames]
    step = r"\d+s \d+(us|ms)/step"
    # While running: the mean over steps of the values given (1, 1/2, 1/3, 1/4 -> 0.7500 at 2).
    assert re.fullmatch(r"1/4 \u2501{20} %s - loss: 1\.0000 *" % step, plain[0]), plain[0]
    assert re.fullmatch(r"2/4 \u2501{20} %s - loss: 0\.7500 *" % step, plain[1]), plain[1]
    assert re.fullmatch(r"4/4 \u2501{20} %s - loss: 0\.2500\n" % step, plain[-1])  # as given
    assert frames[0].startswith("\x1b[1m1/4\x1b[0m \x1b[32m\u2501\u2501\u2501\u2501\u2501"
                                "\x1b[0m\x1b[37m\u2501")  # done part green, the rest white


def test_progbar_number_formats():
    assert format_logs({"loss": 0.69349, "tiny": 1e-5, "big": 1234.5}) == \
        " - loss: 0.6935 - tiny: 1.0000e-05 - big: 1234.5000"
    assert format_logs({"loss": float("nan")}) == " - loss: nan"
    tty = FakeTTY()
    Progbar(12, verbose=2, stream=tty).update(12, {})
    assert re.fullmatch(r"12/12 - 0s - \d+us/step\n", tty.text), tty.text
    tty = FakeTTY()
    Progbar(30, verbose=1, stream=tty).update(1, {})
    assert re.fullmatch(r"\r\x1b\[1m 1/30\x1b\[0m \x1b\[37m\u2501{20}\x1b\[0m \x1b\[1m0s\x1b"
                        r"\[0m \d+us/step", tty.text), tty.text
    assert format_logs({"loss": -0.5}, signed=False) == " - loss: -5.0000e-01"  # Keras's verbose=2
