# Refine: fully connected CRF on the predicted probabilities, parallel over images.


rule refine_crf:
    input:
        pred=rules.predict_masks.output[0],
        manifest=rules.download_dataset.output[0],
        meta=rules.preprocess.output.meta,
        code=modules("refine"),
    output:
        directory(f"{EXP}/crf"),
    params:
        crf=setting("crf"),
    threads: 4
    log:
        f"{EXP}/logs/refine_crf.log",
    benchmark:
        f"{EXP}/benchmarks/refine_crf.tsv"
    script:
        "../scripts/refine_crf.py"
