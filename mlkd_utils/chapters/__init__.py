"""The runs behind each chapter, one module per chapter notebook.

``ch1_teacher`` (what chapter 1 reads from its tables), ``ch2_distillation`` (the e5 recipe grid),
``ch3_sts`` (Tables 1-2), ``ch4_bucc`` (mining), ``ch5_dataset_ablations`` (Tables 4-5) and
``ch6_objectives`` (the objective race). Each turns the profile's ``chapters.<chapter>`` section into
training runs and scores, and has a CLI for the background jobs
(``python -m mlkd_utils.chapters.ch3_sts --profile cpu``); the notebook and the job call the same
functions, and runs are cached by config, so whichever comes second costs seconds.

Each also has a ``reading`` function: the chapter's Reading section, written from the executed run's
tables with :mod:`mlkd_utils.prose`, so no number in it is typed by hand.

Chapter modules never import each other: what two chapters share (the mining benchmarks, the
baselines scored as they are) lives in the library, and a notebook composes chapters.
"""
