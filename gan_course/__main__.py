import sys

from gan_course.cli import main

sys.exit(main())
