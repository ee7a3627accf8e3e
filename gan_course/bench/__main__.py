from gan_course.bench import main

raise SystemExit(main())
