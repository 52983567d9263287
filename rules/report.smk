# Report: figures and tables per experiment, collected by `snakemake --report report.html`.


rule plot_results:
    input:
        histories=histories,
        summary=rules.evaluate_masks.output.summary,
        per_image=rules.evaluate_masks.output.per_image,
        pred=f"{EXP}/pred/test",
        crf=crf_masks,
        final=rules.finalize_masks.output[0],
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        tuning=crf_tuning,
        # split.group_by: each case's scores, for the per-case chart
        **per_case_output(f"{EXP}/metrics/per_case.csv"),
        code=modules("report.plot", "common.layout"),
    output:
        curves=report(
            f"{EXP}/report/curves.png",
            caption="../report/curves.rst",
            category="{experiment}",
            subcategory="training",
        ),
        methods=report(
            f"{EXP}/report/raw_vs_crf.png",
            caption="../report/methods.rst",
            category="{experiment}",
            subcategory="metrics",
        ),
        table=report(
            f"{EXP}/report/metrics.tsv",
            caption="../report/table.rst",
            category="{experiment}",
            subcategory="metrics",
        ),
        verdict=report(
            f"{EXP}/report/crf_verdict.txt",
            caption="../report/verdict.rst",
            category="{experiment}",
            subcategory="metrics",
        ),
        tuning=report(
            f"{EXP}/report/crf_tuning.tsv",
            caption="../report/tuning.rst",
            category="{experiment}",
            subcategory="metrics",
        ),
        overlays=report(
            f"{EXP}/report/overlays.png",
            caption="../report/overlays.rst",
            category="{experiment}",
            subcategory="overlays",
        ),
        environment=report(
            f"{EXP}/report/environment.yaml",
            caption="../report/environment.rst",
            category="{experiment}",
            subcategory="environment",
        ),
        **per_case_chart(f"{EXP}/report/per_case_dice.png"),
        **pr_curve_chart(f"{EXP}/report/pr_curve.png"),  # evaluate.pr_curve only
    params:
        config=experiment_config_params,
    log:
        f"{EXP}/logs/plot_results.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/plot_results.py"


rule compare_experiments:
    input:
        summaries=expand(
            f"{EXP}/metrics/summary.json", experiment=EXPERIMENTS, allow_missing=True
        ),
        code=modules("report.compare"),
    output:
        report(
            f"{DATA}/experiments.tsv",
            caption="../report/experiments.rst",
            category="experiments",
        ),
    params:
        names=EXPERIMENTS,
    log:
        f"{DATA}/logs/compare_experiments.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/compare_experiments.py"


rule cross_validation:
    # Only with split.folds >= 2: each fold's best validation scores, their mean and sd.
    input:
        histories=histories,
        code=modules("report.cross_validation"),
    output:
        report(
            f"{EXP}/report/cross_validation.tsv",
            caption="../report/cross_validation.rst",
            category="{experiment}",
            subcategory="training",
        ),
    log:
        f"{EXP}/logs/cross_validation.log",
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/cross_validation.py"
