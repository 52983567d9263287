# Preprocess: resize once, cache every split as memory-mappable .npy (one job, parallel inside).


rule preprocess:
    input:
        manifest=rules.download_dataset.output[0],
        split=rules.split_dataset.output[0],
        code=modules("cache.preprocess"),
    output:
        cache=expand(
            "{data}/cache/{split}_{kind}.npy",
            data=DATA,
            split=SPLITS,
            kind=["images", "masks"],
        ),
        meta=f"{DATA}/cache/meta.json",
    params:
        size=applicable("preprocess", config["preprocess"]),
        masks=cache_masks(),
        # untracked: refused here, but a change reruns nothing; values as given (cache_masks)
        checked=masks_checked("values"),
    threads: 4
    log:
        f"{DATA}/logs/preprocess.log",
    benchmark:
        f"{DATA}/benchmarks/preprocess.tsv"
    conda:
        "../envs/unet.yaml"
    script:
        "../scripts/preprocess.py"
