"""The reference training step every benchmark compares with: the TensorFlow DCGAN tutorial's loop.

Its own module so that the throughput benchmark (``gan_course.bench``) and the time-to-quality
race (``gan_course.bench.quality``) both import it without importing each other.
"""

from __future__ import annotations

__all__ = ["reference_train_step"]


def reference_train_step(generator, discriminator, latent_dim, batch_size, learning_rate=2e-4, beta_1=0.5):
    """The TensorFlow DCGAN tutorial's loop, in its plain style: one tf.function, two tapes,
    one generator forward pass shared by both losses. The throughput comparison gives it the
    course's Adam(2e-4, beta_1=0.5); the tutorial itself uses Adam(1e-4) (``bench.quality``)."""
    import keras
    import tensorflow as tf

    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)
    discriminator_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([batch_size, latent_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gen_grads, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(disc_grads, discriminator.trainable_variables))
        return gen_loss, disc_loss

    return train_step
