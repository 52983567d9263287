# Refine: fully connected CRF on the predicted probabilities, parallel over images.


rule refine_crf:
    input:
        pred=f"{EXP}/pred/test",
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        tuning=crf_tuning,
        code=modules("crf.refine"),
    output:
        directory(f"{EXP}/crf"),
    params:
        # no tune key: tune_crf's choice arrives as crf_tuning.json, an input
        crf=setting("crf", without=("tune",)),
    threads: 4
    log:
        f"{EXP}/logs/refine_crf.log",
    benchmark:
        f"{EXP}/benchmarks/refine_crf.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/refine_crf.py"


rule tune_crf:
    input:
        pred=f"{EXP}/pred/val",
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        code=modules("crf.tune"),
    output:
        f"{EXP}/crf_tuning.json",
    params:
        crf=setting("crf"),
    threads: 4
    log:
        f"{EXP}/logs/tune_crf.log",
    benchmark:
        f"{EXP}/benchmarks/tune_crf.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/tune_crf.py"
