-- stop keywords that no launch sent to in the attribution window: visible, uncounted
select *
from {{ ref('int_keyword_optouts') }}
where launch_id is null
