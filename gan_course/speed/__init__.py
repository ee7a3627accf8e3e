"""Speed and scale, each an explicit choice: mixed precision (``precision``), several
devices or machines (``distributed``) and layers with faster CPU kernels (``fast_layers``).

The lessons run without any of them; the benchmark (``python -m gan_course.bench``)
measures what each is worth on the machine at hand.
"""
