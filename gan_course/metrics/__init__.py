"""Evaluation metrics for GANs: how good, how varied, and how copied are the samples?

Three families, each a small function:

- **Distribution distances on features.** The Frechet distance (FID; Heusel et al. 2017,
  arXiv:1706.08500) and the kernel distance (KID; Binkowski et al. 2018, arXiv:1801.01401)
  compare the features of generated and real images. For MNIST the features come from a
  small digit classifier trained offline (``scripts/train_classifier.py``), so these are
  *classifier* FID/KID: useful to compare runs of this course, not comparable with the
  published Inception FIDs. For image folders, ``folder_fid`` uses InceptionV3 when its
  ImageNet weights can be had, and says so when it cannot.
- **Class statistics** from the classifier's predictions: how many digit classes the
  generator covers, the entropy of its class histogram, and how often the classifier is
  confident (blurry digits get low confidence).
- **Memorisation**: the L1 distance from each generated image to its nearest training
  image, compared with the same distance for real images the GAN never saw.

Every score depends on the number of samples (FID is biased upwards at small n), so every
result states its sample count: compare like with like. ``reference_values()`` gives the
measured values for real digits and for an untrained generator as anchors.

One module per concept: ``classifier``, ``distances``, ``classes``, ``scores``,
``memorisation``, ``inception``, ``precision_recall`` (lesson 06), ``faces`` (a trained
face classifier's FID, KID and attribute coverage for the offline faces), ``face_detector``
(for real photos of faces: the share of images in which OpenCV's frontal-face detector, trained
by others on real photos, finds a face; lessons 02 and 03), ``attributes`` (a
classifier trained on a folder's class sub-folders, e.g. the brick shapes; lessons 02 and 07); everything is re-exported here, so ``metrics.score_generator``
works as before. Importing this package does no work; the classifier loads on first use.
"""

from gan_course.metrics.attributes import AttributeScorer, build_attribute_classifier, train_attribute_classifier
from gan_course.metrics.classes import DEFAULT_MIN_SHARE, class_coverage, class_entropy, class_histogram, confident_share
from gan_course.metrics.classifier import (
    CLASSIFIER_DIR,
    CLASSIFIER_WEIGHTS,
    N_CLASSES,
    build_classifier,
    classifier_features,
    clear_classifier_cache,
    classifier_outputs,
    classify,
    load_classifier,
    reference_values,
)
from gan_course.metrics.distances import frechet_distance, frechet_distance_gaussians, kernel_inception_distance
from gan_course.metrics.face_detector import FACE_DETECTOR_LABEL, detect_faces, face_detection_share
from gan_course.metrics.faces import (
    FACE_FEATURES_LABEL,
    FACE_HEADS,
    FaceScores,
    attribute_coverage,
    blur_images,
    clear_face_classifier_cache,
    face_features,
    face_outputs,
    face_reference_values,
    load_face_classifier,
    score_faces,
)
from gan_course.metrics.inception import (
    IMAGENET_INCEPTION_LABEL,
    RANDOM_INCEPTION_LABEL,
    folder_fid,
    inception_extractor,
    inception_features,
    load_images_as_array,
)
from gan_course.metrics.memorisation import l1_distance, memorisation_report, nearest_neighbours_l1, plot_nearest_neighbours
from gan_course.metrics.precision_recall import knn_radii, manifold_share, precision_recall
from gan_course.metrics.scores import GeneratorScores, sample_images, score_generator

__all__ = [
    "CLASSIFIER_DIR",
    "CLASSIFIER_WEIGHTS",
    "N_CLASSES",
    "DEFAULT_MIN_SHARE",
    "IMAGENET_INCEPTION_LABEL",
    "RANDOM_INCEPTION_LABEL",
    "build_classifier",
    "load_classifier",
    "clear_classifier_cache",
    "classifier_outputs",
    "classifier_features",
    "classify",
    "frechet_distance_gaussians",
    "frechet_distance",
    "kernel_inception_distance",
    "class_histogram",
    "class_coverage",
    "class_entropy",
    "confident_share",
    "sample_images",
    "GeneratorScores",
    "score_generator",
    "l1_distance",
    "nearest_neighbours_l1",
    "memorisation_report",
    "plot_nearest_neighbours",
    "inception_extractor",
    "inception_features",
    "load_images_as_array",
    "folder_fid",
    "reference_values",
    "knn_radii",
    "manifold_share",
    "precision_recall",
    "FACE_FEATURES_LABEL",
    "FACE_HEADS",
    "FaceScores",
    "score_faces",
    "face_outputs",
    "face_features",
    "attribute_coverage",
    "blur_images",
    "face_reference_values",
    "load_face_classifier",
    "clear_face_classifier_cache",
    "FACE_DETECTOR_LABEL",
    "detect_faces",
    "face_detection_share",
    "AttributeScorer",
    "build_attribute_classifier",
    "train_attribute_classifier",
]
