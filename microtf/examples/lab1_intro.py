"""Lab 1 of MIT 6.S191 (TensorFlow intro) run on microtf: tensors, a custom dense layer,
Sequential, subclassed and identity models, a gradient, and 500 steps of SGD towards x_f = 4.

    python -m microtf lab1          (or: python examples/lab1_intro.py)

Prints every result; saves the SGD curve as lab1_sgd.png when matplotlib is installed.
"""
import os
import sys

import microtf as tf
from microtf.keras.layers import Dense


class OurDenseLayer(tf.keras.layers.Layer):
    """y = sigmoid(x W + b), written the way the lab writes it."""

    def __init__(self, n_output_nodes):
        super(OurDenseLayer, self).__init__()
        self.n_output_nodes = n_output_nodes

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.W = self.add_weight(name="weight", shape=[d, self.n_output_nodes])
        self.b = self.add_weight(name="bias", shape=[1, self.n_output_nodes])

    def call(self, x):
        z = tf.add(tf.matmul(x, self.W), self.b)
        return tf.sigmoid(z)


class SubclassModel(tf.keras.Model):
    def __init__(self, n_output_nodes):
        super(SubclassModel, self).__init__()
        self.dense_layer = Dense(n_output_nodes, activation="sigmoid")

    def call(self, inputs):
        return self.dense_layer(inputs)


class IdentityModel(tf.keras.Model):
    def __init__(self, n_output_nodes):
        super(IdentityModel, self).__init__()
        self.dense_layer = Dense(n_output_nodes, activation="sigmoid")

    def call(self, inputs, isidentity=False):
        x = self.dense_layer(inputs)
        if isidentity:
            return inputs
        return x


def func(a, b):
    c = tf.add(a, b)
    d = tf.subtract(b, 1)
    e = tf.multiply(c, d)
    return e


def tensors():
    sport = tf.constant("Tennis", tf.string)
    numbers = tf.constant([3.141, 1.414, 2.718], tf.float64)
    matrix = tf.constant([[1, 2, 3], [4, 5, 6]], tf.float64)
    images = tf.zeros([10, 256, 256, 3])
    print(sport)
    print(numbers)
    print(matrix)
    assert tf.rank(images).numpy() == 4
    assert tf.shape(images).numpy().tolist() == [10, 256, 256, 3]
    print(matrix[1].numpy(), matrix[:, 2].numpy(), matrix[1, 2].numpy())
    a = tf.constant(15)
    b = tf.constant(61)
    print(tf.add(a, b), a + b)
    print(func(1.5, 2.5))


def models():
    tf.random.set_seed(1)
    layer = OurDenseLayer(3)
    layer.build((1, 2))
    print(layer.call(tf.constant([[1, 2.0]], shape=(1, 2))).numpy())

    model = tf.keras.Sequential()
    model.add(Dense(3, activation="sigmoid"))
    print(model(tf.constant([[1, 2.0]], shape=(1, 2))).numpy())

    model = SubclassModel(3)
    print(model.call(tf.constant([1, 2.0], shape=(1, 2))).numpy())

    model = IdentityModel(3)
    x_input = tf.constant([1, 2.0], shape=(1, 2))
    print(model.call(x_input, False).numpy(), model.call(x_input, True).numpy())


def gradients():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    dy_dx = tape.gradient(y, x)
    assert dy_dx.numpy() == 6.0
    print(dy_dx.numpy())


def sgd(steps=500, learning_rate=1e-2, x_f=4):
    """Minimises (x - x_f)^2 by gradient descent; returns the history of x."""
    x = tf.Variable([tf.random.normal([1])])
    print("Initializing x = {}".format(x.numpy()))
    history = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.pow(x - x_f, 2)
        grad = tape.gradient(loss, x)
        x.assign(x - learning_rate * grad)
        history.append(x.numpy()[0])
    print("final x = {}".format(history[-1]))
    return history


def plot(history, x_f=4, path="lab1_sgd.png"):
    """Saves the SGD curve; returns the path, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print('(matplotlib is not installed: pip install "microtf[plot]" or pip install '
              "matplotlib to get the SGD plot)")
        return None
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.plot(history)
    plt.plot([0, len(history)], [x_f, x_f])
    plt.legend(("Predicted", "True"))
    plt.xlabel("Iteration")
    plt.ylabel("x value")
    fig.savefig(path)
    plt.close(fig)
    print("SGD plot saved to %s" % os.path.abspath(path))
    return path


def main(argv=None):
    tensors()
    models()
    gradients()
    history = sgd()
    plot(history)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
